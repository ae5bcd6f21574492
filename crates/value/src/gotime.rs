//! Go's time layouts: `Time.Format(layout)` (Sprig's `date`, `list --time-format`) and
//! `time.ParseInLocation(layout, value, time.Local)` (Sprig's `toDate`/`mustToDate`), with
//! the reference-time layout elements, Go's leniencies (one- or two-digit fields, spaces in
//! the layout matching any run of spaces, fractional seconds after seconds even when the
//! layout has none) and its exact error texts. Written by hand because chrono's parser has
//! other rules and other errors.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, Offset, TimeZone};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    Month,
    LongMonth,
    NumMonth,
    ZeroMonth,
    WeekDay,
    LongWeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Iso8601Tz,
    Iso8601SecondsTz,
    Iso8601ShortTz,
    Iso8601ColonTz,
    Iso8601ColonSecondsTz,
    NumTz,
    NumSecondsTz,
    NumShortTz,
    NumColonTz,
    NumColonSecondsTz,
    /// `.000`: exactly this many digits.
    FracSecond0(usize),
    /// `.999`: any number of digits, or none.
    FracSecond9(usize),
}

fn starts(s: &[u8], i: usize, p: &str) -> bool {
    s[i..].starts_with(p.as_bytes())
}

/// Go's `nextStdChunk`: the text before the first layout element, the element, and the rest.
fn next_std_chunk(layout: &str) -> (&str, Option<(Std, usize)>, &str) {
    let l = layout.as_bytes();
    for i in 0..l.len() {
        let c = l[i];
        let found: Option<(Std, usize)> = match c {
            b'J' if starts(l, i, "January") => Some((Std::LongMonth, 7)),
            b'J' if starts(l, i, "Jan") => Some((Std::Month, 3)),
            b'M' if starts(l, i, "Monday") => Some((Std::LongWeekDay, 6)),
            b'M' if starts(l, i, "Mon") => Some((Std::WeekDay, 3)),
            b'M' if starts(l, i, "MST") => Some((Std::Tz, 3)),
            b'0' if starts(l, i, "002") => Some((Std::ZeroYearDay, 3)),
            b'0' if i + 1 < l.len() && (b'1'..=b'6').contains(&l[i + 1]) => Some((
                [
                    Std::ZeroMonth,
                    Std::ZeroDay,
                    Std::ZeroHour12,
                    Std::ZeroMinute,
                    Std::ZeroSecond,
                    Std::Year,
                ][(l[i + 1] - b'1') as usize],
                2,
            )),
            b'1' if starts(l, i, "15") => Some((Std::Hour, 2)),
            b'1' => Some((Std::NumMonth, 1)),
            b'2' if starts(l, i, "2006") => Some((Std::LongYear, 4)),
            b'2' => Some((Std::Day, 1)),
            b'_' if starts(l, i, "_2") => {
                if starts(l, i, "_2006") {
                    // A literal underscore, then the year.
                    return (&layout[..i + 1], Some((Std::LongYear, 4)), &layout[i + 5..]);
                }
                Some((Std::UnderDay, 2))
            }
            b'_' if starts(l, i, "__2") => Some((Std::UnderYearDay, 3)),
            b'3' => Some((Std::Hour12, 1)),
            b'4' => Some((Std::Minute, 1)),
            b'5' => Some((Std::Second, 1)),
            b'P' if starts(l, i, "PM") => Some((Std::PM, 2)),
            b'p' if starts(l, i, "pm") => Some((Std::Pm, 2)),
            b'-' if starts(l, i, "-070000") => Some((Std::NumSecondsTz, 7)),
            b'-' if starts(l, i, "-07:00:00") => Some((Std::NumColonSecondsTz, 9)),
            b'-' if starts(l, i, "-0700") => Some((Std::NumTz, 5)),
            b'-' if starts(l, i, "-07:00") => Some((Std::NumColonTz, 6)),
            b'-' if starts(l, i, "-07") => Some((Std::NumShortTz, 3)),
            b'Z' if starts(l, i, "Z070000") => Some((Std::Iso8601SecondsTz, 7)),
            b'Z' if starts(l, i, "Z07:00:00") => Some((Std::Iso8601ColonSecondsTz, 9)),
            b'Z' if starts(l, i, "Z0700") => Some((Std::Iso8601Tz, 5)),
            b'Z' if starts(l, i, "Z07:00") => Some((Std::Iso8601ColonTz, 6)),
            b'Z' if starts(l, i, "Z07") => Some((Std::Iso8601ShortTz, 3)),
            b'.' | b',' if i + 1 < l.len() && (l[i + 1] == b'0' || l[i + 1] == b'9') => {
                let ch = l[i + 1];
                let mut j = i + 1;
                while j < l.len() && l[j] == ch {
                    j += 1;
                }
                if j < l.len() && l[j].is_ascii_digit() {
                    None
                } else {
                    let n = j - (i + 1);
                    Some((
                        if ch == b'0' {
                            Std::FracSecond0(n)
                        } else {
                            Std::FracSecond9(n)
                        },
                        j - i,
                    ))
                }
            }
            _ => None,
        };
        if let Some((std, len)) = found {
            return (&layout[..i], Some((std, len)), &layout[i + len..]);
        }
    }
    (layout, None, "")
}

/// Where a numeric zone offset's sign, hours, minutes and seconds start, and its length.
type TzParts = (usize, usize, Option<usize>, Option<usize>, usize);

/// Go's `time` package quoting for error texts.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn digit(s: &[u8], i: usize) -> bool {
    s.get(i).is_some_and(u8::is_ascii_digit)
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &[u8], fixed: bool) -> Option<(i64, usize)> {
    if !digit(s, 0) {
        return None;
    }
    if !digit(s, 1) {
        if fixed {
            return None;
        }
        return Some(((s[0] - b'0') as i64, 1));
    }
    Some((((s[0] - b'0') * 10 + (s[1] - b'0')) as i64, 2))
}

fn getnum3(s: &[u8], fixed: bool) -> Option<(i64, usize)> {
    let mut n = 0i64;
    let mut i = 0;
    while i < 3 && digit(s, i) {
        n = n * 10 + (s[i] - b'0') as i64;
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, i))
}

/// Go's month and weekday names (`time.Month.String`, `time.Weekday.String`).
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn lookup(names: &[String], v: &[u8]) -> Option<(usize, usize)> {
    names.iter().enumerate().find_map(|(i, n)| {
        (v.len() >= n.len() && v[..n.len()].eq_ignore_ascii_case(n.as_bytes()))
            .then_some((i, n.len()))
    })
}

fn parse_nanos(v: &[u8], nbytes: usize) -> Result<i64, ()> {
    if !matches!(v.first(), Some(b'.' | b',')) {
        return Err(());
    }
    let nbytes = nbytes.min(10);
    let digits = std::str::from_utf8(&v[1..nbytes]).map_err(|_| ())?;
    let mut ns: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| ())?
    };
    for _ in 0..10 - nbytes {
        ns *= 10;
    }
    Ok(ns)
}

/// Go's `parseTimeZone` (the common cases): the length of a zone abbreviation.
fn tz_len(v: &[u8]) -> Option<usize> {
    if v.len() < 3 {
        return None;
    }
    if v.len() >= 4 && (&v[..4] == b"ChST" || &v[..4] == b"MeST") {
        return Some(4);
    }
    if &v[..3] == b"GMT" {
        let mut n = 3;
        if matches!(v.get(3), Some(b'+' | b'-')) {
            let mut j = 4;
            while digit(v, j) {
                j += 1;
            }
            if j > 4 {
                n = j;
            }
        }
        return Some(n);
    }
    let upper = v.iter().take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        3 => Some(3),
        4 if v[3] == b'T' || &v[..4] == b"WITA" => Some(4),
        5 if v[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `*time.ParseError`, worded as its `Error()`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The value does not fit the layout element.
    #[error("parsing time {} as {}: cannot parse {} as {}", quote(.value), quote(.layout), quote(.value_elem), quote(.layout_elem))]
    CannotParse {
        layout: String,
        value: String,
        layout_elem: String,
        value_elem: String,
    },
    /// The value fits the layout but not the calendar (`message` starts with `: `, or is
    /// ` extra text: ...`).
    #[error("parsing time {}{message}", quote(.value))]
    Invalid { value: String, message: String },
}

/// `time.ParseInLocation(layout, value, time.Local)`.
pub fn parse_in_local(layout0: &str, value0: &str) -> Result<DateTime<FixedOffset>, ParseError> {
    let cannot = |lay_elem: &str, val_elem: &[u8]| ParseError::CannotParse {
        layout: layout0.to_string(),
        value: value0.to_string(),
        layout_elem: lay_elem.to_string(),
        value_elem: String::from_utf8_lossy(val_elem).into_owned(),
    };
    let msg = |m: &str| ParseError::Invalid {
        value: value0.to_string(),
        message: m.to_string(),
    };
    let short_months: Vec<String> = MONTHS.iter().map(|m| m[..3].to_string()).collect();
    let long_months: Vec<String> = MONTHS.iter().map(|m| m.to_string()).collect();
    let short_days: Vec<String> = DAYS.iter().map(|d| d[..3].to_string()).collect();
    let long_days: Vec<String> = DAYS.iter().map(|d| d.to_string()).collect();

    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nsec) = (0i64, 0i64, 0i64, 0i64);
    let (mut utc, mut zone_offset, mut zone_name) = (false, -1i64, String::new());
    let (mut pm_set, mut am_set) = (false, false);
    let mut layout = layout0;
    let mut value: &[u8] = value0.as_bytes();
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        let std_str = &layout[prefix.len()..layout.len() - suffix.len()];
        // skip(value, prefix)
        let mut p = prefix.as_bytes();
        while !p.is_empty() {
            if p[0] == b' ' {
                if !value.is_empty() && value[0] != b' ' {
                    return Err(cannot(prefix, value));
                }
                p = &p[p.iter().take_while(|&&c| c == b' ').count()..];
                value = &value[value.iter().take_while(|&&c| c == b' ').count()..];
                continue;
            }
            if value.is_empty() || value[0] != p[0] {
                return Err(cannot(prefix, value));
            }
            p = &p[1..];
            value = &value[1..];
        }
        let Some((std, _)) = std else {
            if !value.is_empty() {
                return Err(msg(&format!(
                    ": extra text: {}",
                    quote(&String::from_utf8_lossy(value))
                )));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        let mut range_err = "";
        let mut ok = true;
        let v = value;
        let take = |n: usize, value: &mut &[u8]| *value = &value[n..];
        match std {
            Std::Year => {
                if v.len() < 2 || !digit(v, 0) || !digit(v, 1) {
                    ok = false;
                } else {
                    year = ((v[0] - b'0') * 10 + (v[1] - b'0')) as i64;
                    year += if year >= 69 { 1900 } else { 2000 };
                    take(2, &mut value);
                }
            }
            Std::LongYear => {
                if v.len() < 4 || !(0..4).all(|i| digit(v, i)) {
                    ok = false;
                } else {
                    year = std::str::from_utf8(&v[..4])
                        .unwrap_or("0")
                        .parse()
                        .unwrap_or(0);
                    take(4, &mut value);
                }
            }
            Std::Month | Std::LongMonth => {
                let names = if std == Std::Month {
                    &short_months
                } else {
                    &long_months
                };
                match lookup(names, v) {
                    Some((i, n)) => {
                        month = i as i64 + 1;
                        take(n, &mut value);
                    }
                    None => ok = false,
                }
            }
            Std::NumMonth | Std::ZeroMonth => match getnum(v, std == Std::ZeroMonth) {
                Some((n, k)) => {
                    month = n;
                    take(k, &mut value);
                    if !(1..=12).contains(&month) {
                        range_err = "month";
                    }
                }
                None => ok = false,
            },
            Std::WeekDay | Std::LongWeekDay => {
                let names = if std == Std::WeekDay {
                    &short_days
                } else {
                    &long_days
                };
                match lookup(names, v) {
                    Some((_, n)) => take(n, &mut value),
                    None => ok = false,
                }
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                let mut w = v;
                if std == Std::UnderDay && w.first() == Some(&b' ') {
                    w = &w[1..];
                }
                match getnum(w, std == Std::ZeroDay) {
                    Some((n, k)) => {
                        day = n;
                        value = &w[k..];
                    }
                    None => ok = false,
                }
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                let mut w = v;
                for _ in 0..2 {
                    if std == Std::UnderYearDay && w.first() == Some(&b' ') {
                        w = &w[1..];
                    }
                }
                match getnum3(w, std == Std::ZeroYearDay) {
                    Some((n, k)) => {
                        yday = n;
                        value = &w[k..];
                    }
                    None => ok = false,
                }
            }
            Std::Hour => match getnum(v, false) {
                Some((n, k)) => {
                    hour = n;
                    take(k, &mut value);
                    if !(0..24).contains(&hour) {
                        range_err = "hour";
                    }
                }
                None => ok = false,
            },
            Std::Hour12 | Std::ZeroHour12 => match getnum(v, std == Std::ZeroHour12) {
                Some((n, k)) => {
                    hour = n;
                    take(k, &mut value);
                    if !(0..=12).contains(&hour) {
                        range_err = "hour";
                    }
                }
                None => ok = false,
            },
            Std::Minute | Std::ZeroMinute => match getnum(v, std == Std::ZeroMinute) {
                Some((n, k)) => {
                    min = n;
                    take(k, &mut value);
                    if !(0..60).contains(&min) {
                        range_err = "minute";
                    }
                }
                None => ok = false,
            },
            Std::Second | Std::ZeroSecond => match getnum(v, std == Std::ZeroSecond) {
                Some((n, k)) => {
                    sec = n;
                    take(k, &mut value);
                    if !(0..60).contains(&sec) {
                        range_err = "second";
                    } else if value.len() >= 2 && matches!(value[0], b'.' | b',') && digit(value, 1)
                    {
                        let (_, next, _) = next_std_chunk(layout);
                        if !matches!(next, Some((Std::FracSecond0(_) | Std::FracSecond9(_), _))) {
                            let mut n = 2;
                            while n < value.len() && digit(value, n) {
                                n += 1;
                            }
                            match parse_nanos(value, n) {
                                Ok(ns) => nsec = ns,
                                Err(()) => ok = false,
                            }
                            take(n, &mut value);
                        }
                    }
                }
                None => ok = false,
            },
            Std::PM | Std::Pm => {
                if v.len() < 2 {
                    ok = false;
                } else {
                    let (pm, am) = if std == Std::PM {
                        (b"PM", b"AM")
                    } else {
                        (b"pm", b"am")
                    };
                    if &v[..2] == pm {
                        pm_set = true;
                    } else if &v[..2] == am {
                        am_set = true;
                    } else {
                        ok = false;
                    }
                    take(2, &mut value);
                }
            }
            Std::Iso8601Tz
            | Std::Iso8601SecondsTz
            | Std::Iso8601ShortTz
            | Std::Iso8601ColonTz
            | Std::Iso8601ColonSecondsTz
                if v.first() == Some(&b'Z') =>
            {
                take(1, &mut value);
                utc = true;
            }
            Std::Iso8601Tz
            | Std::Iso8601SecondsTz
            | Std::Iso8601ShortTz
            | Std::Iso8601ColonTz
            | Std::Iso8601ColonSecondsTz
            | Std::NumTz
            | Std::NumSecondsTz
            | Std::NumShortTz
            | Std::NumColonTz
            | Std::NumColonSecondsTz => {
                // (sign, hour, minute, second) byte ranges and the length used.
                let parts: Option<TzParts> = match std {
                    Std::Iso8601ColonTz | Std::NumColonTz => {
                        (v.len() >= 6 && v[3] == b':').then_some((0, 1, Some(4), None, 6))
                    }
                    Std::Iso8601ShortTz | Std::NumShortTz => {
                        (v.len() >= 3).then_some((0, 1, None, None, 3))
                    }
                    Std::Iso8601ColonSecondsTz | Std::NumColonSecondsTz => (v.len() >= 9
                        && v[3] == b':'
                        && v[6] == b':')
                        .then_some((0, 1, Some(4), Some(7), 9)),
                    Std::Iso8601SecondsTz | Std::NumSecondsTz => {
                        (v.len() >= 7).then_some((0, 1, Some(3), Some(5), 7))
                    }
                    _ => (v.len() >= 5).then_some((0, 1, Some(3), None, 5)),
                };
                match parts {
                    None => ok = false,
                    Some((s, h, m, sc, n)) => {
                        let two = |at: Option<usize>| match at {
                            None => Some(0),
                            Some(i) => getnum(&v[i..i + 2], true).map(|x| x.0),
                        };
                        match (two(Some(h)), two(m), two(sc)) {
                            (Some(hh), Some(mm), Some(ss)) => {
                                if hh > 24 {
                                    range_err = "time zone offset hour";
                                }
                                if mm > 60 {
                                    range_err = "time zone offset minute";
                                }
                                if ss > 60 {
                                    range_err = "time zone offset second";
                                }
                                zone_offset = (hh * 60 + mm) * 60 + ss;
                                match v[s] {
                                    b'+' => {}
                                    b'-' => zone_offset = -zone_offset,
                                    _ => ok = false,
                                }
                            }
                            _ => ok = false,
                        }
                        take(n, &mut value);
                    }
                }
            }
            Std::Tz => {
                if v.len() >= 3 && &v[..3] == b"UTC" {
                    utc = true;
                    take(3, &mut value);
                } else {
                    match tz_len(v) {
                        Some(n) => {
                            zone_name = String::from_utf8_lossy(&v[..n]).into_owned();
                            take(n, &mut value);
                        }
                        None => ok = false,
                    }
                }
            }
            Std::FracSecond0(n) => {
                let nd = 1 + n;
                if v.len() < nd {
                    ok = false;
                } else {
                    match parse_nanos(v, nd) {
                        Ok(ns) => nsec = ns,
                        Err(()) => ok = false,
                    }
                    take(nd, &mut value);
                }
            }
            Std::FracSecond9(_) => {
                if v.len() >= 2 && matches!(v[0], b'.' | b',') && digit(v, 1) {
                    let mut i = 0;
                    while i + 1 < v.len() && digit(v, i + 1) {
                        i += 1;
                    }
                    match parse_nanos(v, 1 + i) {
                        Ok(ns) => nsec = ns,
                        Err(()) => ok = false,
                    }
                    take(1 + i, &mut value);
                }
            }
        }
        if !range_err.is_empty() {
            return Err(msg(&format!(": {range_err} out of range")));
        }
        if !ok {
            return Err(cannot(std_str, hold));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    let days_in = |m: i64, y: i64| -> i64 {
        match m {
            2 => {
                if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                    29
                } else {
                    28
                }
            }
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    };
    if yday >= 0 {
        let leap = days_in(2, year) == 29;
        if yday < 1 || yday > if leap { 366 } else { 365 } {
            return Err(msg(": day-of-year out of range"));
        }
        let (mut m, mut d) = (1, yday);
        while d > days_in(m, year) {
            d -= days_in(m, year);
            m += 1;
        }
        if month >= 0 && month != m {
            return Err(msg(": day-of-year does not match month"));
        }
        if day >= 0 && day != d {
            return Err(msg(": day-of-year does not match day"));
        }
        month = m;
        day = d;
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(msg(": day out of range"));
    }
    let naive = NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)
        .and_then(|d| d.and_hms_nano_opt(hour as u32, min as u32, sec as u32, nsec as u32))
        .ok_or_else(|| msg(": day out of range"))?;
    let at = |off: i64| -> DateTime<FixedOffset> {
        let tz =
            FixedOffset::east_opt(off as i32).unwrap_or(FixedOffset::east_opt(0).expect("utc"));
        tz.from_utc_datetime(&(naive - chrono::Duration::seconds(off)))
    };
    if utc {
        return Ok(at(0));
    }
    if zone_offset != -1 {
        return Ok(at(zone_offset));
    }
    if !zone_name.is_empty() {
        let local = Local
            .from_utc_datetime(&naive)
            .offset()
            .fix()
            .local_minus_utc() as i64;
        let mut off = 0;
        if zone_name.len() > 3 && zone_name.starts_with("GMT") {
            off = zone_name[3..].parse::<i64>().unwrap_or(0) * 3600;
        } else if local == 0 && zone_name == "UTC" {
            off = 0;
        }
        return Ok(at(off));
    }
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
        .ok_or_else(|| msg(": day out of range"))
}

/// Go's `Time.Format(layout)` for a time at a fixed offset; `zone` is the zone's name for
/// `MST` (none: `UTC` at offset 0, the local zone here, else the numeric offset).
pub fn format(t: &DateTime<FixedOffset>, zone: Option<&str>, layout: &str) -> String {
    use chrono::{Datelike, Timelike};
    let mut out = String::new();
    let mut layout = layout;
    let off = t.offset().local_minus_utc();
    loop {
        let (prefix, std, suffix) = next_std_chunk(layout);
        out.push_str(prefix);
        let Some((std, len)) = std else {
            break;
        };
        let std_str = &layout[prefix.len()..prefix.len() + len];
        layout = suffix;
        let num_tz = |out: &mut String, colon: bool, minutes: bool, seconds: bool| {
            let a = off.abs();
            out.push(if off < 0 { '-' } else { '+' });
            out.push_str(&format!("{:02}", a / 3600));
            if minutes {
                if colon {
                    out.push(':');
                }
                out.push_str(&format!("{:02}", a / 60 % 60));
            }
            if seconds {
                if colon {
                    out.push(':');
                }
                out.push_str(&format!("{:02}", a % 60));
            }
        };
        match std {
            Std::Year => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
            Std::LongYear => out.push_str(&format!("{:04}", t.year())),
            Std::Month => out.push_str(&MONTHS[t.month0() as usize][..3]),
            Std::LongMonth => out.push_str(MONTHS[t.month0() as usize]),
            Std::NumMonth => out.push_str(&t.month().to_string()),
            Std::ZeroMonth => out.push_str(&format!("{:02}", t.month())),
            Std::WeekDay => out.push_str(&DAYS[t.weekday().num_days_from_sunday() as usize][..3]),
            Std::LongWeekDay => out.push_str(DAYS[t.weekday().num_days_from_sunday() as usize]),
            Std::Day => out.push_str(&t.day().to_string()),
            Std::UnderDay => out.push_str(&format!("{:>2}", t.day())),
            Std::ZeroDay => out.push_str(&format!("{:02}", t.day())),
            Std::UnderYearDay => out.push_str(&format!("{:>3}", t.ordinal())),
            Std::ZeroYearDay => out.push_str(&format!("{:03}", t.ordinal())),
            Std::Hour => out.push_str(&format!("{:02}", t.hour())),
            Std::Hour12 | Std::ZeroHour12 => {
                let h = match t.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                if std == Std::Hour12 {
                    out.push_str(&h.to_string());
                } else {
                    out.push_str(&format!("{h:02}"));
                }
            }
            Std::Minute => out.push_str(&t.minute().to_string()),
            Std::ZeroMinute => out.push_str(&format!("{:02}", t.minute())),
            Std::Second => out.push_str(&t.second().to_string()),
            Std::ZeroSecond => out.push_str(&format!("{:02}", t.second())),
            Std::PM => out.push_str(if t.hour() >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if t.hour() >= 12 { "pm" } else { "am" }),
            Std::Iso8601Tz
            | Std::Iso8601SecondsTz
            | Std::Iso8601ShortTz
            | Std::Iso8601ColonTz
            | Std::Iso8601ColonSecondsTz
                if off == 0 =>
            {
                out.push('Z')
            }
            Std::Iso8601Tz | Std::NumTz => num_tz(&mut out, false, true, false),
            Std::Iso8601SecondsTz | Std::NumSecondsTz => num_tz(&mut out, false, true, true),
            Std::Iso8601ShortTz | Std::NumShortTz => num_tz(&mut out, false, false, false),
            Std::Iso8601ColonTz | Std::NumColonTz => num_tz(&mut out, true, true, false),
            Std::Iso8601ColonSecondsTz | Std::NumColonSecondsTz => {
                num_tz(&mut out, true, true, true)
            }
            Std::Tz => match zone {
                Some(z) => out.push_str(z),
                None if off == 0 => out.push_str("UTC"),
                None => num_tz(&mut out, false, true, false),
            },
            Std::FracSecond0(n) | Std::FracSecond9(n) => {
                let digits = format!("{:09}", t.nanosecond() % 1_000_000_000);
                let mut d = &digits[..n.min(9)];
                if matches!(std, Std::FracSecond9(_)) {
                    d = d.trim_end_matches('0');
                    if d.is_empty() {
                        continue;
                    }
                }
                out.push_str(&std_str[..1]);
                out.push_str(d);
            }
        }
    }
    out
}
