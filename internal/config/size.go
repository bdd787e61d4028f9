package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Byte multiples used by size values. ossimport writes sizes the way the
// JVM writes heap sizes, so "k", "m" and "g" are powers of 1024.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

// Errors returned by ParseSize.
var (
	errSizeSyntax = errors.New("not a size (write a whole number with an optional k, m or g suffix, e.g. 50m)")
	errSizeRange  = errors.New("size too large")
)

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first so that "kb" is not read as "k" + "b".
	{"kb", KiB}, {"mb", MiB}, {"gb", GiB}, {"tb", TiB},
	{"k", KiB}, {"m", MiB}, {"g", GiB}, {"t", TiB}, {"b", 1},
}

// ParseSize reads a byte count written the ossimport way: a non-negative
// whole number optionally followed by a unit, case-insensitive: "b", "k" or
// "kb", "m" or "mb", "g" or "gb", "t" or "tb" (powers of 1024). Plain
// numbers are bytes. Examples: "500k", "50m", "5G", "1000000000".
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return 0, errSizeSyntax
	}
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = num, u.mult
			break
		}
	}
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return 0, errSizeSyntax
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errSizeRange
	}
	return n * mult, nil
}

// FormatSize writes n with the largest unit that divides it exactly, in the
// lower-case form ParseSize reads: 157286400 becomes "150m", 1000000000
// stays "1000000000".
func FormatSize(n int64) string {
	if n != 0 {
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"t", TiB}, {"g", GiB}, {"m", MiB}, {"k", KiB}} {
			if n%u.mult == 0 {
				return strconv.FormatInt(n/u.mult, 10) + u.suffix
			}
		}
	}
	return strconv.FormatInt(n, 10)
}
