"""French dates: "13 déc. 2026" and "13 déc. 2026, 23:19" ("N": French month abbreviations, with their full stop)."""

DATE_FORMAT = "j N Y"
DATETIME_FORMAT = "j N Y, H:i"
SHORT_DATE_FORMAT = "j N Y"
SHORT_DATETIME_FORMAT = "j N Y, H:i"
MONTH_DAY_FORMAT = "j N"
YEAR_MONTH_FORMAT = "N Y"
TIME_FORMAT = "H:i"
