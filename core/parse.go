package core

import "math"

// Atoi parses a non-negative decimal integer as ngx_atoi: digits only, no
// sign, no overflow.
func Atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if n > (math.MaxInt-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

func parseScaled(s string, units string, scales []int64) (int64, bool) {
	if s == "" {
		return 0, false
	}
	scale := int64(1)
	last := s[len(s)-1]
	for i := 0; i < len(units); i++ {
		if last == units[i] || last == units[i]+'a'-'A' {
			scale = scales[i]
			s = s[:len(s)-1]
			break
		}
	}
	n, ok := Atoi(s)
	if !ok || int64(n) > math.MaxInt64/scale {
		return 0, false
	}
	return int64(n) * scale, true
}

// ParseSize parses a size as ngx_parse_size: a number with an optional
// k/K or m/M suffix.
func ParseSize(s string) (int64, bool) {
	return parseScaled(s, "KM", []int64{1 << 10, 1 << 20})
}

// ParseOffset parses a size as ngx_parse_offset: k, m or g.
func ParseOffset(s string) (int64, bool) {
	return parseScaled(s, "KMG", []int64{1 << 10, 1 << 20, 1 << 30})
}

// ParseTime parses a time as ngx_parse_time: a sequence of numbers with
// units (y M w d h m s ms), separated by optional spaces; a bare number is
// seconds when isSec, else milliseconds. It returns seconds or
// milliseconds accordingly. Units must come in decreasing order, and years
// and months are refused for millisecond times, as in nginx.
func ParseTime(s string, isSec bool) (int64, bool) {
	const (
		stStart = iota
		stYear
		stMonth
		stWeek
		stDay
		stHour
		stMin
		stSec
		stMsec
		stLast
	)
	const maxInt = math.MaxInt64
	step := stStart
	if !isSec {
		step = stMonth
	}
	var value, total int64
	valid := false
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= '0' && c <= '9' {
			if value >= maxInt/10 && (value > maxInt/10 || int64(c-'0') > maxInt%10) {
				return 0, false
			}
			value = value*10 + int64(c-'0')
			valid = true
			i++
			continue
		}
		i++
		var max, scale int64
		switch c {
		case 'y':
			if step > stStart {
				return 0, false
			}
			step, scale = stYear, 60*60*24*365
		case 'M':
			if step >= stMonth {
				return 0, false
			}
			step, scale = stMonth, 60*60*24*30
		case 'w':
			if step >= stWeek {
				return 0, false
			}
			step, scale = stWeek, 60*60*24*7
		case 'd':
			if step >= stDay {
				return 0, false
			}
			step, scale = stDay, 60*60*24
		case 'h':
			if step >= stHour {
				return 0, false
			}
			step, scale = stHour, 60*60
		case 'm':
			if i < len(s) && s[i] == 's' {
				if isSec || step >= stMsec {
					return 0, false
				}
				i++
				step, scale = stMsec, 1
				break
			}
			if step >= stMin {
				return 0, false
			}
			step, scale = stMin, 60
		case 's':
			if step >= stSec {
				return 0, false
			}
			step, scale = stSec, 1
		case ' ':
			if step >= stSec {
				return 0, false
			}
			step, scale = stLast, 1
		default:
			return 0, false
		}
		max = maxInt / scale
		if step != stMsec && !isSec {
			scale *= 1000
			max /= 1000
		}
		if value > max {
			return 0, false
		}
		value *= scale
		if total > maxInt-value {
			return 0, false
		}
		total += value
		value = 0
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if !valid {
		return 0, false
	}
	if !isSec {
		if value > maxInt/1000 {
			return 0, false
		}
		value *= 1000
	}
	if total > maxInt-value {
		return 0, false
	}
	return total + value, true
}
