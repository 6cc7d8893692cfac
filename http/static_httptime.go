package http

import "time"

// ParseHTTPTime parses an HTTP date in any of the three forms nginx
// accepts (RFC 822 "Tue, 10 Nov 2002 23:50:13", RFC 850
// "Tuesday, 10-Dec-02 23:50:13", asctime "Tue Dec 10 23:50:13 2002") and
// returns Unix seconds, or -1 when the value does not parse, as
// ngx_parse_http_time: what follows the seconds (the zone) is not looked
// at, and the arithmetic wraps as nginx's does for out-of-range years.
func ParseHTTPTime(v []byte) int64 {
	const (
		none = iota
		rfc822
		rfc850
		isoc
	)
	// at reads past the end as NUL, where nginx reads the byte after the
	// header value (the terminating NUL or the CR).
	at := func(i int) byte {
		if i < len(v) && i >= 0 {
			return v[i]
		}
		return 0
	}
	digit := func(i int) bool { c := at(i); return c >= '0' && c <= '9' }
	num2 := func(i int) uint64 { return uint64(at(i)-'0')*10 + uint64(at(i+1)-'0') }

	fmt := none
	end := len(v)
	p := 0
	for ; p < end; p++ {
		if v[p] == ',' {
			break
		}
		if v[p] == ' ' {
			fmt = isoc
			break
		}
	}
	for p++; p < end; p++ {
		if v[p] != ' ' {
			break
		}
	}
	if end-p < 18 {
		return -1
	}
	var day, year uint64
	if fmt != isoc {
		if !digit(p) || !digit(p+1) {
			return -1
		}
		day = num2(p)
		p += 2
		switch at(p) {
		case ' ':
			if end-p < 18 {
				return -1
			}
			fmt = rfc822
		case '-':
			fmt = rfc850
		default:
			return -1
		}
		p++
	}
	var month int64
	switch at(p) {
	case 'J':
		switch {
		case at(p+1) == 'a':
			month = 0
		case at(p+2) == 'n':
			month = 5
		default:
			month = 6
		}
	case 'F':
		month = 1
	case 'M':
		if at(p+2) == 'r' {
			month = 2
		} else {
			month = 4
		}
	case 'A':
		if at(p+1) == 'p' {
			month = 3
		} else {
			month = 7
		}
	case 'S':
		month = 8
	case 'O':
		month = 9
	case 'N':
		month = 10
	case 'D':
		month = 11
	default:
		return -1
	}
	p += 3
	if fmt == rfc822 && at(p) != ' ' || fmt == rfc850 && at(p) != '-' {
		return -1
	}
	p++
	switch fmt {
	case rfc822:
		if !digit(p) || !digit(p+1) || !digit(p+2) || !digit(p+3) {
			return -1
		}
		year = num2(p)*100 + num2(p+2)
		p += 4
	case rfc850:
		if !digit(p) || !digit(p+1) {
			return -1
		}
		year = num2(p)
		if year < 70 {
			year += 2000
		} else {
			year += 1900
		}
		p += 2
	case isoc:
		if at(p) == ' ' {
			p++
		}
		if !digit(p) {
			return -1
		}
		day = uint64(at(p) - '0')
		p++
		if at(p) != ' ' {
			if !digit(p) {
				return -1
			}
			day = day*10 + uint64(at(p)-'0')
			p++
		}
		if end-p < 14 {
			return -1
		}
	}
	if at(p) != ' ' {
		return -1
	}
	p++
	if !digit(p) || !digit(p+1) {
		return -1
	}
	hour := num2(p)
	p += 2
	if at(p) != ':' {
		return -1
	}
	p++
	if !digit(p) || !digit(p+1) {
		return -1
	}
	minute := num2(p)
	p += 2
	if at(p) != ':' {
		return -1
	}
	p++
	if !digit(p) || !digit(p+1) {
		return -1
	}
	sec := num2(p)
	if fmt == isoc {
		p += 2
		if at(p) != ' ' {
			return -1
		}
		p++
		if !digit(p) || !digit(p+1) || !digit(p+2) || !digit(p+3) {
			return -1
		}
		year = num2(p)*100 + num2(p+2)
	}
	if hour > 23 || minute > 59 || sec > 59 {
		return -1
	}
	mdays := [12]uint64{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if day == 29 && month == 1 {
		if year&3 != 0 || year%100 == 0 && year%400 != 0 {
			return -1
		}
	} else if day > mdays[month] {
		return -1
	}
	// Gauss' formula counts from March 1, months from 1.
	month--
	if month <= 0 {
		month += 12
		year--
	}
	days := 365*year + year/4 - year/100 + year/400 + uint64(367*month/12) - 30 + day - 1 - 719527 + 31 + 28
	return int64(days*86400 + hour*3600 + minute*60 + sec)
}

var (
	weekdays  = [7]string{"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"}
	monthAbbr = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// AppendHTTPDate appends Unix time sec in the IMF-fixdate form of HTTP
// headers ("Sun, 06 Nov 1994 08:49:37 GMT"), as ngx_http_time writes it,
// without going through time.Format: it is on the path of every response
// with a Last-Modified.
func AppendHTTPDate(b []byte, sec int64) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	// days to civil date (proleptic Gregorian, eras of 400 years).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	year := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	if month <= 2 {
		year++
	}
	if year < 0 || year > 9999 {
		return time.Unix(sec, 0).UTC().AppendFormat(b, "Mon, 02 Jan 2006 15:04:05 GMT")
	}
	wd := days % 7
	if wd < 0 {
		wd += 7
	}
	b = append(b, weekdays[wd]...)
	b = append(b, ',', ' ', byte('0'+day/10), byte('0'+day%10), ' ')
	b = append(b, monthAbbr[month-1]...)
	b = append(b, ' ', byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), ' ')
	h, m, s := rem/3600, rem/60%60, rem%60
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
	return append(b, " GMT"...)
}
