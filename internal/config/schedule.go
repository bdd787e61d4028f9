package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ScheduleEntry is one step of a bandwidth timetable: from the given time
// on, the rate applies until the next entry.
type ScheduleEntry struct {
	// Daily entries apply every day; otherwise the entry applies on Weekday.
	Daily   bool
	Weekday time.Weekday
	// Minute is the start time in minutes after midnight (0 to 1439).
	Minute int
	// Rate is the bandwidth cap in bytes per second; 0 means unlimited.
	Rate int64
}

// Schedule is a bandwidth timetable sorted by start time. All entries are
// daily, or all name a weekday.
type Schedule []ScheduleEntry

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSchedule reads a timetable in the style of rclone's --bwlimit:
// space-separated entries "HH:MM,RATE", or "Day-HH:MM,RATE" with Day one of
// Mon..Sun, where RATE is bytes per second with an optional k, M or G
// suffix (powers of 1024), and "off" or 0 mean unlimited. Example:
// "08:00,512k 12:00,10M 18:00,off". The empty string gives an empty
// Schedule.
func ParseSchedule(s string) (Schedule, error) {
	var out Schedule
	for field := range strings.FieldsSeq(s) {
		e, err := parseScheduleEntry(field)
		if err != nil {
			return nil, fmt.Errorf("bad entry %q: %w", field, err)
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, e := range out[1:] {
		if e.Daily != out[0].Daily {
			return nil, fmt.Errorf("daily and weekday entries are mixed (use one form throughout)")
		}
	}
	slices.SortStableFunc(out, func(a, b ScheduleEntry) int { return a.key() - b.key() })
	for i := 1; i < len(out); i++ {
		if out[i].key() == out[i-1].key() {
			return nil, fmt.Errorf("time %s is listed twice", out[i].when())
		}
	}
	return out, nil
}

func parseScheduleEntry(field string) (ScheduleEntry, error) {
	var e ScheduleEntry
	when, rate, ok := strings.Cut(field, ",")
	if !ok {
		return e, fmt.Errorf("write HH:MM,RATE")
	}
	e.Daily = true
	if day, clock, found := strings.Cut(when, "-"); found {
		i := slices.Index(weekdays, strings.ToLower(day))
		if i < 0 {
			return e, fmt.Errorf("unknown weekday %q (use Mon, Tue, Wed, Thu, Fri, Sat or Sun)", day)
		}
		e.Daily, e.Weekday, when = false, time.Weekday(i), clock
	}
	var h, m int
	if len(when) != 5 || when[2] != ':' || !digits(when[:2]) || !digits(when[3:]) {
		return e, fmt.Errorf("time must be written HH:MM")
	}
	h, m = atoi2(when[:2]), atoi2(when[3:])
	if h > 23 || m > 59 {
		return e, fmt.Errorf("time must be between 00:00 and 23:59")
	}
	e.Minute = h*60 + m
	if strings.EqualFold(rate, "off") {
		return e, nil
	}
	n, err := ParseSize(rate)
	if err != nil {
		return e, fmt.Errorf("rate must be like 512k, 10M or off")
	}
	e.Rate = n
	return e, nil
}

func digits(s string) bool { return strings.Trim(s, "0123456789") == "" }

func atoi2(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

// key orders entries: minutes into the day, or into the week from Sunday.
func (e ScheduleEntry) key() int {
	if e.Daily {
		return e.Minute
	}
	return int(e.Weekday)*1440 + e.Minute
}

func (e ScheduleEntry) when() string {
	t := fmt.Sprintf("%02d:%02d", e.Minute/60, e.Minute%60)
	if e.Daily {
		return t
	}
	return strings.ToUpper(weekdays[e.Weekday][:1]) + weekdays[e.Weekday][1:] + "-" + t
}

// String writes the schedule in the form ParseSchedule reads.
func (s Schedule) String() string {
	parts := make([]string, len(s))
	for i, e := range s {
		rate := "off"
		if e.Rate > 0 {
			rate = FormatSize(e.Rate)
		}
		parts[i] = e.when() + "," + rate
	}
	return strings.Join(parts, " ")
}

// RateAt returns the rate in force at t (local time of t): that of the
// last entry starting at or before t, wrapping around to the last entry of
// the previous day or week. ok is false for an empty schedule.
func (s Schedule) RateAt(t time.Time) (rate int64, ok bool) {
	if len(s) == 0 {
		return 0, false
	}
	now := t.Hour()*60 + t.Minute()
	if !s[0].Daily {
		now += int(t.Weekday()) * 1440
	}
	cur := s[len(s)-1]
	for _, e := range s {
		if e.key() <= now {
			cur = e
		}
	}
	return cur.Rate, true
}
