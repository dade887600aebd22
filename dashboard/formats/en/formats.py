"""English dates for a Norwegian product: day before month, never the US 11/25/2026."""

DATE_FORMAT = "j M Y"
SHORT_DATE_FORMAT = "d M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d M Y H:i"
TIME_FORMAT = "H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"]
