"""Schedules and time zones with the verdict a Kubernetes CronJob gives them (True = accepted).

Shared data, not a test module: the unit tests check `generator.schedule.cron` against these
verdicts, the robfig/cron differential test checks the verdicts against robfig itself, and the
control-plane differential test checks them against a real kube-apiserver. Every verdict is what
Kubernetes v1.34 says (robfig/cron v3.0.1's ParseStandard, plus "no TZ in the schedule"; for zones
the CronJob rules plus Go's time.LoadLocation), including where that is surprising: `*-5` and
`@every -5m` are accepted, `0 0 31 2 *` is accepted although it never fires.

Zone names whose verdict depends on the host's zoneinfo folder (`posixrules`, `right/UTC`,
`localtime`) are left out on purpose; the unit tests cover them with a controlled folder.
"""

from __future__ import annotations

SCHEDULE_CASES: list[tuple[str, bool]] = [
    # Plain and common
    ("* * * * *", True),
    ("0 * * * *", True),
    ("*/5 * * * *", True),
    ("0 0 * * *", True),
    ("30 2 * * *", True),
    ("0 9 * * 1-5", True),
    ("15,45 * * * *", True),
    ("59 23 31 12 *", True),
    ("0 0 1 * *", True),
    ("0 0 1,15 * 1", True),
    ("0 0 */2 * *", True),
    ("0-59/15 * * * *", True),
    ("5/15 * * * *", True),
    ("1-5/2 * * * *", True),
    ("*/1 * * * *", True),
    ("*/100 * * * *", True),  # step larger than the range: only the start
    ("00 09 * * *", True),  # leading zeros
    ("+5 * * * *", True),  # Go's Atoi takes a sign
    ("*/+5 * * * *", True),
    # Names, any case, in their own field only
    ("0 9 * * MON-FRI", True),
    ("0 9 * * mon-fri", True),
    ("0 12 * * Sun", True),
    ("0 0 1 JAN *", True),
    ("0 0 1 jan-mar,oct *", True),
    ("0 0 * * sun/2", True),
    ("0 0 * * JAN", False),
    ("0 0 1 MON *", False),
    ("0 0 * * MONDAY", False),
    ("0 0 * * */mon", False),
    ("0 0 * * FRI-MON", False),
    # Day of week 0-6
    ("0 0 * * 0", True),
    ("0 0 * * 6", True),
    ("0 0 * * 7", False),
    ("0 0 * * 1,7", False),
    ("0 0 * * 8", False),
    # `?` is a star, in any field
    ("0 0 ? * *", True),
    ("0 0 * * ?", True),
    ("? ? ? ? ?", True),
    # Dates that exist rarely or never
    ("0 0 29 2 *", True),
    ("0 0 31 2 *", True),
    ("0 0 30 2 *", True),
    # Odd things robfig accepts
    ("*-5 * * * *", True),  # robfig ignores what follows a star in a range
    ("1,,2 * * * *", True),  # empty list items are skipped
    ("  0 0 * * *  ", True),  # surrounding blanks
    ("0\t0\t*\t*\t*", True),
    ("0\u00a00 * * *", True),  # a no-break space separates fields in Go
    ("0 0 * * FR\u0130", True),  # Go lower-cases dotted capital I to ASCII i
    # Out of range and malformed
    ("60 * * * *", False),
    ("0,60 * * * *", False),
    ("* 24 * * *", False),
    ("* * 0 * *", False),
    ("* * 32 * *", False),
    ("* * * 0 *", False),
    ("* * * 13 *", False),
    ("*/0 * * * *", False),
    ("0 0 1-31/0 * *", False),
    ("5-3 * * * *", False),
    ("-1 * * * *", False),
    ("*/-1 * * * *", False),
    ("1-2-3 * * * *", False),
    ("*/5/2 * * * *", False),
    ("1- * * * *", False),
    ("/5 * * * *", False),
    ("a * * * *", False),
    ("1.5 * * * *", False),
    ("0x10 * * * *", False),
    ("*/1.5 * * * *", False),
    ("0\x1c0 * * * *", False),  # U+001C separates words in Python, not fields in Go
    ("99999999999999999999 * * * *", False),
    # Quartz-style extensions robfig v3 does not have
    ("0 0 L * *", False),
    ("0 0 1W * *", False),
    ("0 0 * * 1#2", False),
    ("0 0 * * 5L", False),
    # Field counts
    ("", False),
    ("* * * *", False),
    ("* * * * * *", False),
    ("0 0 0 * * *", False),
    # Macros
    ("@yearly", True),
    ("@annually", True),
    ("@monthly", True),
    ("@weekly", True),
    ("@daily", True),
    ("@midnight", True),
    ("@hourly", True),
    ("@reboot", False),
    ("@Daily", False),
    ("@daily ", False),
    (" @daily", False),
    # @every takes a Go duration
    ("@every 1h", True),
    ("@every 1h30m", True),
    ("@every 90s", True),
    ("@every 1.5h", True),
    ("@every 500ms", True),  # rounded up to one second
    ("@every 0", True),
    ("@every -5m", True),  # a negative delay becomes one second
    ("@every 1\u00b5s", True),
    ("@every", False),
    ("@every ", False),
    ("@every 1d", False),
    ("@every 1H", False),
    ("@every  1h", False),
    ("@every 1h ", False),
    ("@every .s", False),
    ("@EVERY 1h", False),
    ("@every 9999999999h", False),  # overflows Go's int64 nanoseconds
    # Time zones belong in spec.timeZone
    ("TZ=UTC 0 0 * * *", False),
    ("CRON_TZ=Europe/Berlin 0 0 * * *", False),
    ("TZ=UTC @daily", False),
    ("TZ=UTC", False),
]

TIME_ZONE_CASES: list[tuple[str, bool]] = [
    ("UTC", True),
    ("Etc/UTC", True),
    ("GMT", True),
    ("Europe/Berlin", True),
    ("America/New_York", True),
    ("Asia/Kathmandu", True),
    ("Australia/Lord_Howe", True),
    ("America/Argentina/Buenos_Aires", True),
    ("America/Indiana/Indianapolis", True),
    ("Pacific/Chatham", True),
    ("Asia/Kolkata", True),
    ("Europe/Kyiv", True),
    ("US/Eastern", True),
    ("EST5EDT", True),
    ("Etc/GMT+5", True),
    ("Etc/GMT-14", True),
    ("", False),  # a CronJob's timeZone is absent or names a zone
    ("Local", False),
    ("local", False),
    ("LOCAL", False),
    ("utc", False),  # zone names are case-sensitive
    ("europe/berlin", False),
    ("Europe/Berlinn", False),
    ("Mars/Olympus_Mons", False),
    ("UTC+2", False),
    ("Etc/GMT+15", False),
    ("/etc/localtime", False),
    ("/usr/share/zoneinfo/UTC", False),
    ("../zoneinfo/UTC", False),
    ("Europe/../UTC", False),
    ("Europe/./Berlin", False),
    ("Europe//Berlin", False),
    ("Europe/Berlin/", False),
    ("Europe/Berlin ", False),
    ("Europe", False),  # a folder, not a zone
    ("zone.tab", False),  # a file in the zoneinfo folder that is not a zone
    ("-UTC", False),
    ("America/Argentina/Buenos Aires", False),
]
