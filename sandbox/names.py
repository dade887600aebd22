"""Word lists for realistic Norwegian sandbox data. Every person and company here is invented."""

# fmt: off
FIRST_NAMES = [
    "Bjørn", "Åse", "Øystein", "Kjærsti", "Søren", "Mette", "Kari", "Ola", "Håkon", "Tor",
    "Sølvi", "Gøril", "Jørgen", "Ståle", "Bård", "Dag", "Åsmund", "Ørjan", "Trond", "Ingrid",
    "Siri", "Solveig", "Liv", "Ragnhild", "Torbjørn", "Stig", "Hege", "Marit", "Nils", "Per",
    "Pål", "Espen", "Astrid", "Kåre", "Bjørg", "Ingebjørg", "Sigrun", "Jan", "Anne", "Kristin",
    "Randi", "Eirik", "Magnus", "Nora", "Emma", "Sofie", "Ida", "Jonas", "Henrik", "Aksel",
    "Frøydis", "Gunnhild", "Tøger", "Håvard", "Sverre", "Vårin", "Åshild", "Jøran", "Agnete",
    "Zoë", "Ahmed", "Fatima", "Piotr", "Agnieszka", "Mohammed", "Linh", "José", "Thérèse",
    "Jürgen", "Ægir",
]
LAST_NAMES = [
    "Sæther", "Kløvstad", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen",
    "Nilsen", "Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg",
    "Haugen", "Hagen", "Johannessen", "Andreassen", "Jacobsen", "Dahl", "Jørgensen", "Halvorsen",
    "Henriksen", "Lund", "Sørensen", "Jakobsen", "Moen", "Gundersen", "Iversen", "Strand",
    "Solberg", "Svendsen", "Eide", "Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen",
    "Mathisen", "Lie", "Amundsen", "Nguyen", "Rasmussen", "Ali", "Lunde", "Solheim", "Berge",
    "Moe", "Nygård", "Bakke", "Fredriksen", "Holm", "Lien", "Hauge", "Sæbø", "Aasen", "Strøm",
    "Røed", "Økland", "Åsheim", "Grønli", "Fjære", "Bråten", "Ødegård", "Løkken", "Sørli",
    "Thorsen", "Våge", "Tveit", "Haaland", "Kvåle", "Kowalski", "Øvrebø", "Bjørnstad", "Fosså",
]
COMPANY_STEMS = [
    "Fjord", "Nordlys", "Bjørnstad", "Havøy", "Ålesund", "Trøndelag", "Kløver", "Fjellheim",
    "Vestvåg", "Sørlandets", "Lillehammer", "Hålogaland", "Bøler", "Grünerløkka", "Måløy",
    "Tønsberg", "Røros", "Skjærgård", "Isbjørn", "Elvebakken", "Furuly", "Solsikke", "Kyst",
]
COMPANY_TRADES = [
    "Bygg", "Eiendom", "Transport", "Fiskeri", "Rør", "Elektro", "Barnehage", "Regnskap",
    "Frisør", "Bakeri", "Maskin", "Catering", "Tannklinikk", "Snekkeri", "Utleie", "Consulting",
]
COMPANY_FORMS = [
    "AS", "AS", "AS", "AS", "ASA", "ENK", "DA",
]
ORGANIZATION_NAMES = [
    "Bergen Boliger AS", "Tromsø Kraft AS", "Nordlys Eiendom AS", "Sørlandet Treningssenter AS",
    "Bjørkli Tannklinikk AS", "Vestland Parkering AS", "Trøndelag Bredbånd AS",
    "Ålesund Utleie AS", "Hålogaland Boligbyggelag", "Østfold Energi AS", "Mjøsa Tannhelse AS",
    "Fjellstrøm Studentbolig AS",
]
MONTHS = [
    "januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
    "november", "desember",
]
# Descriptions; `{month}` and `{year}` are filled from the invoice date.
DESCRIPTIONS = [
    "Husleie {month} {year}", "Strøm og nettleie {month} {year}",
    "Felleskostnader {month} {year}", "Treningsavgift {month} {year}",
    "Tannbehandling {month} {year}", "Bredbånd og TV {month} {year}", "Varekjøp {month} {year}",
    "Konsulenttimer {month} {year}", "Parkeringsavgift {month} {year}",
    "Barnehageplass {month} {year}",
]
RENT_DESCRIPTION = "Husleie {month} {year}"
SOURCE_SYSTEMS = [
    "TX", "VISMA", "POGO", "FIKEN", "SAP", "UNI",
]
BANK_PREFIXES = [
    "1503", "1506", "1254", "3000", "8601", "9710", "1645", "3633", "4200", "2801",
]
EMAIL_DOMAIN = "epost.example"  # RFC 2606: never a real mailbox
COMPANY_EMAIL_DOMAIN = "example"
# fmt: on
