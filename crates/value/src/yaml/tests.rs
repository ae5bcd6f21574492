use super::*;
use crate::{Map, Value};

fn y(text: &str) -> Value {
    from_yaml(text).unwrap()
}

#[test]
fn a_string_key_spelled_like_the_merge_key_is_written_plain_as_helm_writes_it() {
    // Found by the yaml fuzz target (input "xIp:\n!xIp: <<:"): a quoted or tagged `<<`
    // reads as an ordinary key, and toYaml writes it back plain, which then reads as a
    // merge key. Helm does the same: a chart with values `x: {"<<": 1, a: 1}` renders
    // `{{ toYaml .Values.x }}`, `toYamlPretty` and a toJson/fromJson/toYaml round trip
    // all as "<<: 1\na: 1" (helm-oracle, Helm v4.2.3). So the writer keeps Helm's text and
    // the round trip fails as Helm's does.
    let v = y("'<<': 1\na: 1\n");
    assert_eq!(v.as_map().unwrap()["<<"], Value::Float(1.0));
    assert_eq!(to_yaml(&v).unwrap(), "<<: 1\na: 1\n");
    assert_eq!(to_yaml_pretty(&v).unwrap(), "<<: 1\na: 1\n");
    let tagged = y("xIp:\n!xIp: <<:\n");
    assert_eq!(to_yaml(&tagged).unwrap(), "<<: null\nxIp: null\n");
    assert_eq!(
        from_yaml(&to_yaml(&tagged).unwrap()).unwrap_err().to_string().to_string(),
        "error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value"
    );
}

#[test]
fn resolves_like_go_yaml_v2() {
    // Checked against helm-python-sdk's values_from_yaml (go-yaml v2 through sigs.k8s.io/yaml).
    let v = y("a: yes\nb: off\nc: 0777\nd: 1_000\ne: 1.5\nf: ~\ng: '1'\nh: 2020-01-02\ni: 0x1F\nn: x\nm: 08\nz: 1:30\n");
    let m = v.as_map().unwrap();
    assert_eq!(m["a"], Value::Bool(true));
    assert_eq!(m["b"], Value::Bool(false));
    assert_eq!(m["c"], Value::Float(511.0));
    assert_eq!(m["d"], Value::Float(1000.0));
    assert_eq!(m["e"], Value::Float(1.5));
    assert_eq!(m["f"], Value::Nil);
    assert_eq!(m["g"], Value::str("1"));
    assert_eq!(m["h"], Value::str("2020-01-02"));
    assert_eq!(m["m"], Value::Float(8.0));
    assert_eq!(m["z"], Value::str("1:30"));
    assert_eq!(m["i"], Value::Float(31.0));
    // The key `n` resolves to false.
    assert!(m.contains_key("false"));
}

#[test]
fn reads_and_rejects_what_go_yaml_does() {
    // Expected values and messages from Helm 4.2.3 (helm-python-sdk `values_from_yaml`).
    // A flow sequence closed below its key's indentation: libyaml accepts it (a real
    // chart's values.yaml does this), a spec-strict parser would not.
    let v = from_yaml(
        "vault:\n  server:\n    args: [\n      \"server\",\n      \"-dev\"\n    ]\n    x: 1\n",
    )
    .unwrap();
    assert_eq!(
        crate::json::to_json(&v).unwrap(),
        r#"{"vault":{"server":{"args":["server","-dev"],"x":1}}}"#
    );
    let err = |t: &str| from_yaml(t).unwrap_err().to_string();
    assert_eq!(
        err("a: &x 1\nb: *y\n"),
        "error converting YAML to JSON: yaml: unknown anchor 'y' referenced"
    );
    assert_eq!(
        err("a: b: c\n"),
        "error converting YAML to JSON: yaml: mapping values are not allowed in this context"
    );
    assert_eq!(
        err("a:\n\t- b\n"),
        "error converting YAML to JSON: yaml: line 2: found character that cannot start any token"
    );
    assert_eq!(
        err("k: \"unterminated\n"),
        "error converting YAML to JSON: yaml: line 2: found unexpected end of stream"
    );
}

/// Runs `f` on a stack as large as the one `rudder` gives its work (main.rs): values
/// nested 10000 deep are legal, and building and dropping them recurses that deep.
fn on_rudders_stack(f: impl FnOnce() + Send) {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn_scoped(scope, f)
            .expect("thread starts")
            .join()
            .expect("test passes");
    });
}

#[test]
fn nesting_is_refused_at_go_yamls_limits_while_reading() {
    on_rudders_stack(nesting_limits);
}

fn nesting_limits() {
    // Expected texts from Helm v4.2.3 (helm.values_from_yaml, the values-file reader):
    // go-yaml refuses a 10001st flow level or indentation level while scanning; a
    // document within both limits whose JSON nests deeper than 10000 fails in
    // encoding/json instead.
    let flow =
        |open: &str, close: &str, n: usize| format!("a: {}{}\n", open.repeat(n), close.repeat(n));
    for n in [10_001, 1_000_000] {
        assert_eq!(
            from_yaml(&flow("[", "]", n)).unwrap_err().to_string(),
            "error converting YAML to JSON: yaml: exceeded max depth of 10000",
            "{n} flow sequences"
        );
    }
    let maps = format!("a: {}1{}\n", "{a: ".repeat(10_001), "}".repeat(10_001));
    assert_eq!(
        from_yaml(&maps).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: exceeded max depth of 10000"
    );
    assert_eq!(
        from_yaml(&flow("[", "]", 10_000)).unwrap_err().to_string(),
        "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
    );
    let maps = format!("a: {}1{}\n", "{a: ".repeat(10_000), "}".repeat(10_000));
    assert_eq!(
        from_yaml(&maps).unwrap_err().to_string(),
        "error unmarshaling JSON: while decoding JSON: invalid character '{' exceeded max depth"
    );
    assert!(from_yaml(&flow("[", "]", 9_999)).is_ok());
    // Sequences written at their key's column open no indentation level, those on one
    // line (`- - x`) one each (Helm's outputs: tests/conformance/cases/hostile-input.case).
    let dashes = |n: usize| format!("a:\n  {}x\n", "- ".repeat(n));
    assert!(from_yaml(&dashes(9_999)).is_ok());
    assert_eq!(
        from_yaml(&dashes(10_000)).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: line 2: exceeded max depth of 10000"
    );
    let indentless = |n: usize| format!("a:\n- b:\n  - c:\n    {}x\n", "- ".repeat(n));
    assert_eq!(
        from_yaml(&indentless(9_998)).unwrap_err().to_string(),
        "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
    );
    assert_eq!(
        from_yaml(&indentless(9_999)).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: line 4: exceeded max depth of 10000"
    );
    let mixed = format!(
        "a:\n  {}{}{}\n",
        "- ".repeat(5_000),
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    assert_eq!(
        from_yaml(&mixed).unwrap_err().to_string(),
        "error unmarshaling JSON: while decoding JSON: invalid character '[' exceeded max depth"
    );
}

#[test]
fn deep_nesting_costs_bounded_time() {
    // A hundred thousand levels were read whole before the depth check (14 s at 80k in
    // a release build); the limit now stops the reader at the 10001st level.
    let timed = |text: String| {
        let started = std::time::Instant::now();
        let result = from_yaml(&text);
        (started.elapsed(), result)
    };
    let (took, result) = timed(format!(
        "a: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    ));
    assert!(result
        .unwrap_err()
        .to_string()
        .ends_with("exceeded max depth of 10000"));
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    // Within the depth limit, libyaml's work grows with depth × tokens (28 s in a
    // release build for this one): refused once it passes the budget for its size.
    let wide = vec!["a"; 100_000].join(",");
    let (took, result) = timed(format!(
        "a: {}{wide}{}\n",
        "[".repeat(9_990),
        "]".repeat(9_990)
    ));
    assert!(result
        .unwrap_err()
        .to_string()
        .contains("flow collections nested too deep"));
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    // Nesting as real documents have it is nowhere near the budget.
    let items: Vec<String> = (0..20_000)
        .map(|i| format!("{{\"k{i}\": [[1, 2], {{\"x\": [\"y\"]}}]}}"))
        .collect();
    let deep_json = format!("{}[{}]{}", "[".repeat(20), items.join(", "), "]".repeat(20));
    assert!(from_yaml(&deep_json).is_ok());
}

#[test]
fn alias_bombs_are_refused_as_go_yaml_refuses_them() {
    // Nine levels of ten aliases each: a billion laughs. Helm says the same.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    assert_eq!(
        from_yaml(&text).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: document contains excessive aliasing"
    );
    // Ordinary reuse of an anchor is fine.
    let mut text = String::from("base: &b {a: 1, b: 2}\n");
    for i in 0..50 {
        text.push_str(&format!("k{i}: *b\n"));
    }
    let v = from_yaml(&text).unwrap();
    assert_eq!(v.as_dict().unwrap().len(), 51);
}

#[test]
fn key_order_survives_overflowing_digit_runs() {
    // Found by fuzzing: go-yaml's key order is not total once digit runs overflow, and
    // writing must neither panic nor lose keys.
    // The fuzzer's inputs hold raw control characters, which libyaml and go-yaml refuse
    // to read (checked against Helm); the keys they produced are built directly below.
    let text = include_str!("../../tests/data/fuzz-yaml-key-order-overflow.yaml");
    assert_eq!(
        from_yaml(text).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: control characters are not allowed"
    );
    let overflowing: Map = [
        "1",
        "99999999999999999999999a",
        "99999999999999999999998",
        "a10",
        "a2",
    ]
    .iter()
    .map(|k| (k.to_string(), Value::Int(1)))
    .collect();
    let v = Value::map(overflowing);
    assert_eq!(
        from_yaml(&to_yaml(&v).unwrap()).unwrap(),
        from_yaml(&to_yaml(&v).unwrap()).unwrap()
    );
    assert_eq!(
        from_yaml(&to_yaml(&v).unwrap())
            .unwrap()
            .as_dict()
            .unwrap()
            .len(),
        5
    );
    // Found by fuzzing: a key longer than 128 bytes must be written as a complex key,
    // or the output does not read back.
    let text = include_str!("../../tests/data/fuzz-yaml-long-control-key.yaml");
    assert_eq!(
        from_yaml(text).unwrap_err().to_string(),
        "error converting YAML to JSON: yaml: control characters are not allowed"
    );
    let long_key = format!("\u{e}\u{6}Y{}:\n", "x".repeat(140));
    let v = Value::map([(long_key, Value::Int(1))].into_iter().collect::<Map>());
    let back = from_yaml(&to_yaml(&v).unwrap()).unwrap();
    assert_eq!(back.as_dict().unwrap().keys(), v.as_dict().unwrap().keys());
    let mut keys: Vec<String> = (0..40)
        .map(|i| format!("{}7{i}", "9".repeat(i % 25)))
        .collect();
    keys.push("x".into());
    let m: Map = keys.iter().map(|k| (k.clone(), Value::Int(1))).collect();
    let out = to_yaml(&Value::map(m)).unwrap();
    assert_eq!(out.lines().count(), keys.len());
}

#[test]
fn merges_and_anchors() {
    let v = y("base: &b {x: 1, q: 2}\nd:\n  <<: *b\n  q: 3\ny: 1\n");
    let d = v.get_path(&["d"]).unwrap();
    let m = d.as_map().unwrap();
    assert_eq!(m["x"], Value::Float(1.0));
    assert_eq!(m["q"], Value::Float(3.0));
    // `y` is a boolean key in YAML 1.1.
    assert!(v.as_map().unwrap().contains_key("true"));
}

#[test]
fn writes_like_go_yaml_v2() {
    let v = y("b: 1\na:\n  - x\n  - k: v\n    j: 2\nc: {}\nd: []\ne: \"yes\"\nf: \"\"\ng: \"l1\\nl2\"\nh: 1000000\ni: 0.5\nj: null\nk: \"- x\"\n");
    assert_eq!(
        to_yaml(&v).unwrap(),
        "a:\n- x\n- j: 2\n  k: v\nb: 1\nc: {}\nd: []\ne: \"yes\"\nf: \"\"\ng: |-\n  l1\n  l2\nh: 1000000\ni: 0.5\nj: null\nk: '- x'\n"
    );
}

#[test]
fn natural_key_order() {
    let mut keys = vec!["a10", "a9", "b", "_x", "B"];
    keys.sort_by(|a, b| natural_less(a, b));
    assert_eq!(keys, vec!["_x", "B", "a9", "a10", "b"]);
}

#[test]
fn folds_long_strings() {
    let long = "word ".repeat(30);
    let v = Value::map(
        [("k".to_string(), Value::str(long.trim()))]
            .into_iter()
            .collect(),
    );
    let out = to_yaml(&v).unwrap();
    assert!(out.lines().count() > 1, "{out}");
    assert_eq!(
        from_yaml(&out).unwrap().get_path(&["k"]).unwrap(),
        Value::str(long.trim())
    );
}

mod unicode_breaks {
    use super::{from_yaml, to_yaml};
    use crate::{Map, Value};

    fn get(text: &str, key: &str) -> Value {
        from_yaml(text).unwrap().get_path(&[key]).unwrap()
    }

    /// Expected values are what Helm v4.2.3's fromYaml gives (func-yaml-unicode.case).
    #[test]
    fn a_merge_key_tagged_non_specific_is_still_a_merge() {
        // Found by the yaml fuzz target; Helm v4.2.3's fromYaml of this text gives the same
        // error (checked with helm-python-sdk), and with `!` a merge works as without it.
        let e = from_yaml("x: &a v\n! <<: *a\n").unwrap_err().to_string();
        assert!(
            e.ends_with("map merge requires map or sequence of maps as the value"),
            "{e}"
        );
        let merged = from_yaml("x: &a {k: v}\ny:\n  ! <<: *a\n").unwrap();
        assert_eq!(merged, from_yaml("x: {k: v}\ny: {k: v}\n").unwrap());
    }

    #[test]
    fn quoted_scalars_break_lines_as_libyaml_does() {
        assert_eq!(get("a: \"x\ny\"", "a"), Value::str("x y"));
        assert_eq!(get("a: \"x\u{2028}  y\"", "a"), Value::str("x\u{2028}y"));
        assert_eq!(
            get("a: 'x\u{2028}\u{2028}y'", "a"),
            Value::str("x\u{2028}\u{2028}y")
        );
        assert_eq!(get("a: 'x\u{85}y'", "a"), Value::str("x y"));
        assert_eq!(get("a: 'x\u{2029}\ny'", "a"), Value::str("x\u{2029}\ny"));
        assert_eq!(get("a: \"x\\\u{2028}y\"", "a"), Value::str("xy"));
        assert_eq!(get("a: 'p\u{85}\u{85}q'", "a"), Value::str("p\nq"));
    }

    /// Helm's values for block scalars that end the input (func-yaml-unicode.case).
    #[test]
    fn block_scalars_at_the_end_of_input_as_libyaml() {
        assert_eq!(get("k: |\n  a", "k"), Value::str("a"));
        assert_eq!(get("k: |+\n  a", "k"), Value::str("a"));
        assert_eq!(get("k: |+\n", "k"), Value::str(""));
        assert_eq!(get("k: |+\n\n", "k"), Value::str("\n"));
        assert_eq!(get("k: |\n  a\n# c", "k"), Value::str("a\n"));
        assert_eq!(get("k: |+\n  a\n\n", "k"), Value::str("a\n\n"));
        assert_eq!(get("k: |\n  a\nj: 1", "k"), Value::str("a\n"));
    }

    /// Where Helm's fromYaml takes or rejects tabs (func-yaml-unicode.case, yaml-tabs).
    #[test]
    fn tabs_as_libyaml() {
        assert_eq!(get("a:\tb", "a"), Value::str("b"));
        assert_eq!(get("a: 'x\n\ty'", "a"), Value::str("x y"));
        let err = |t: &str| from_yaml(t).unwrap_err().to_string();
        assert!(err("\ta: 1").ends_with("yaml: found character that cannot start any token"));
        assert!(err("a: |\n  \tx").ends_with(
            "yaml: line 2: found a tab character where an indentation space is expected"
        ));
        assert!(err("a:\n  b: 1\n\tc: 2")
            .ends_with("yaml: line 3: found a tab character that violates indentation"));
    }

    #[test]
    fn line_separators_round_trip_and_nel_folds_like_helm() {
        for s in [
            "x\u{2028}y",
            "\u{2029}",
            "a\nb\u{2028}c",
            " \u{2028} ",
            "x\u{2028}\u{2028}y",
        ] {
            let mut m = Map::new();
            m.insert("k".into(), Value::str(s));
            let y = to_yaml(&Value::map(m)).unwrap();
            assert_eq!(get(&y, "k"), Value::str(s), "{y:?}");
        }
        let mut m = Map::new();
        m.insert("c".into(), Value::str("x\u{85}y"));
        assert_eq!(to_yaml(&Value::map(m)).unwrap(), "c: x y\n");
    }
}

mod block_subset {
    use super::check_block_subset;

    fn agrees(text: &str) -> bool {
        match check_block_subset(text) {
            Ok(read) => read,
            Err(e) => panic!("{text:?}\n{e}"),
        }
    }

    #[test]
    fn reads_plain_block_yaml_as_libyaml_does() {
        let read = [
            "a: 1\n",
            "a: 1",
            "---\na: 1\n",
            "# c\n\na: 1 # c\nb:\n  c: 'x''y' # c\n  d: \"q # not a comment\"\n",
            "a:\n- 1\n- -2\n-\n- x: 1\n  y:\n  - z\nb: ~\n",
            "- - a\n  - b\n- c: d\n  e: f\n-   g: h\n    i: j\n",
            "a b:  c d  \n'q k': v\n\"dq\": ''\nurl: http://x:80/y\n",
            "  a: 1\n  b: 2\n",
            "a:\n    b:\n        c: x]\nd: 1\n",
            "k: v#not-comment\nk2: a :b\n-x: 1\n<<: 1\n",
            "a:\n  - b\n  -\n  - # c\n    c: 1\n",
            "list:\n- a: 1\n  b:\n  - c\n- d\n",
            "a: {}\nb: [] # c\nc:\n- {}\n- []\n",
            "a: |\n  x\n   y\n\n  # z\nb: |-\n    q\n\n\nc: |+\n  k\n\n\nd: 1\n",
            "- |\n  x\n  \n    \n  y\n- |-\n   a\n- k: |\n    v\n  l: 2\n",
            "a: |\n\n  x\nb: | # c\n  y\n",
            "a: |\n  x",
            "a: |-\n  x",
            "a: [x, \"y z\", 'w', -1, 1.5, a/b]\nb: [x] # c\nc:\n- [a,b]\n",
            "a: {b: 1, c: [x, {d: e f}], 'g': \"h\"}\nb: { }\nc: [ ]\nd:\n- [{}]\ne: [x y,  z  w ]\n",
            "- {a: [1, 2], b: {c: {}}}\n- [[x], []]\n",
            "a: |+\n  x\n\n  ",
            "a:\n  b: |+\n    x\n\n  ",
            "a: >-\n  x\n",
            "a: >\n  x\n  y\n\n  z\n\n\n  w\nb: >-\n  p\n  q\n\nc: >+\n  k\n  l\n\n\nd: 1\n",
            "- >\n\n  x\n  y\n- k: >\n    v\n    w\n  l: 2\n",
            "a: > # c\n  x\n",
            "a: >\n  x",
            "# \u{2019}curly\u{2019} quotes, caf\u{e9}, \u{1f600}\na: 1 # c\n  # \u{a0}indented\nb: |\n  # \u{e9} is content here\n",
            // No document: an empty text, or only comments (a template that rendered only
            // its licence header).
            "",
            "# only a comment\n",
            "#\n# Licensed\n#\n\n# note\n  # indented\n",
            // Folded lines indented deeper than the block are kept, with their line breaks.
            "a: >\n  x\n    deeper\n  y\n",
            "- >-\n  sleep 3;\n    if x; then\n      y;\n    fi\n  z\n  w\n",
            "a: >\n  x\n\n    deeper\n\n  y\n  z\n",
            "a: >+\n  x\n    deeper last\n\n",
            "a: >\n  x\n     \n  y\n",
            // Plain scalars going on over deeper lines (Chart.yaml descriptions), blank lines
            // among them.
            "description: Apache Kafka is a distributed\n  streaming platform, used  \n  to build pipelines.\nb: 1\n",
            "a:\n  b: x\n    y\n\n\n    z\n   w\n  c: 1\n",
            "- x\n  y\n- a: p\n    q\n  b: r\n   s\n",
            "a:\n- x\n  y\n- z\n y\n",
            "a: 1\n  2\n",
            "a: x-y\n  -z\n  a-b/c=d\n  y.\n",
            "a: b\n  c\n",
            // Double-quoted escapes that stand for one ASCII character.
            "a: \"NT AUTHORITY\\\\system\"\nb: \"{{ printf \\\"%s\\\" .x }}\" # c\n",
            "\"k\\\"ey\": \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\/\"\nc: [\"x\\\"y\", {\"z\\\\\": \"\\\"\"}]\n",
            "- \"\\\\\"\n- \"a\\\\\\\\\"\n- \"ends in \\\"\\\"\"\n",
            // A one-line flow collection on the line after its key or dash.
            "resources:\n  {}\nb:\n    [x, y] # c\nc:\n- \n  {a: 1}\n",
        ];
        for text in read {
            assert!(agrees(text), "not read by the fast reader: {text:?}");
        }
    }

    #[test]
    fn leaves_everything_else_to_libyaml() {
        let left = [
            "plain\n",
            "---\n# only a comment\n",
            "a:\n  {}\n  b: 1\n",
            "a:\n  {} x\n",
            "a: >\n   \n  x\n",
            "# line\u{2028}separator\na: 1\n",
            "# next line\u{85}a: 1\n",
            "# bom \u{feff}\na: 1\n",
            "a: caf\u{e9}\n",
            "a: 1 # inline caf\u{e9}\n",
            "a: |2\n   x\n",
            "a: |\nb: 1\n",
            "a: |\n     \n  x\n",
            "a: |\n  x\n b: 1\n",
            "a: [x, ]\n",
            "a: [x: y]\n",
            "a: [x]]\n",
            "a: [x\n",
            "a: {}x\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: {b:1}\n",
            "a: {b: 1,}\n",
            "a: {b}\n",
            "a: {b: }\n",
            "a: {b: 1\n  , c: 2}\n",
            "a: {b: 1} x\n",
            "a: {b: 1}}\n",
            "a: {\"b\":1}\n",
            "a: {b: c #d}\n",
            "a:\n  b\n",
            "a: \"x\\xe9y\"\n",
            "a: \"x\\u00e9\"\n",
            "a: \"x\\Ny\"\n",
            "a: \"x\\\n  y\"\n",
            "a: \"x\\qy\"\n",
            "a: \"x\\'y\"\n",
            "a: \"x\\\"\n",
            "a: \"x\\\\\\\"\n",
            "a: \"x\n  y\"\n",
            "a: 1\n---\nb: 2\n",
            "---\n---\n-\n",
            "---\n# c\n---\na: 1\n",
            "a: 1\n...\n",
            "%YAML 1.1\n---\na: 1\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: é\n",
            "a: b: c\n",
            "a:\n  b: 1\n c: 2\n",
            "- a\nb: 1\n",
            "a: 1\n- b\n",
            "? a\n: b\n",
            "a: 'x\n",
            "a: \"x\"y\n",
            "a: -\n",
            "a: x:\n",
            "- a\n  - b\n",
            "a: x\n  # c\n  y\n",
            "a: x # c\n  y\n",
            "a: x\n  y: z\n",
            "a: x\n  y:\n",
            "a: x\n  y #z\n",
            "a: x\n  'y'\n",
            "a:\n  x\n  y\n",
            "a: 'x'\n  y\n",
        ];
        for text in left {
            assert!(!agrees(text), "read by the fast reader: {text:?}");
        }
    }

    /// `from_yaml` reads the subset straight to values: every rule `to_value` applies to
    /// libyaml's nodes (keys as JSON object keys, float32 keys, duplicates, nulls, merge
    /// keys, errors) gives the same result (`check_block_subset` compares the two).
    #[test]
    fn reads_values_straight_as_libyamls_nodes_decode() {
        let read = [
            "true: 1\nno: 2\nY: 3\n0x10: 4\n0o17: 5\n017: 6\n1_000: 7\n-0b11: 8\n",
            "1.5: a\n1e3: b\n0.1: c\n.inf: d\n-.Inf: e\n.nan: f\n16777217: g\n3.4e39: h\n",
            "123456789.125: a\n1e-7: b\n-0.0: c\n1.0: d\n",
            "2024-01-02: a\n2024-01-02T03:04:05Z: b\n'2024-01-02': c\n\"1\": d\n",
            "a: 1\na: 2\nb: {c: 1, c: x}\n",
            "a: 0x1F\nb: 0777\nc: 1_000\nd: 1.5e3\ne: -.inf\nf: .NaN\ng: +12\nh: 0b101\n",
            "a: 2001-12-14t21:59:43.10-05:00\nb: 2001-12-14 21:59:43.10\nc: 2002-12-14\n",
            "a: 99999999999999999999\nb: 18446744073709551615\nc: -9223372036854775808\n",
            "a: ~\nb: null\nc:\nd: ''\ne: \"\"\nf: [null, '', yes, 1, x]\n",
            "a: {1: x, true: y, 1.5: z, 'q': [1, {2: 3}]}\n",
            "- |\n  text\n- >-\n  folded\n  text\n- 'on'\n- on\n",
            "\"<<\": {a: 1}\n'<<': 2\n",
            // Top keys (checked with those of a manifest's head and with "true", "16",
            // "1.5"): some match only once converted, some twice, some not at all.
            "yes: {x: 1}\nkind: K\n0x10: [1]\n1.5: a\napiVersion: v1\nmetadata:\n  name: n\nother: {b: 1}\n",
            "Kind: a\nkind: b\nKIND: c\nkind: d\ntrue: 1\nTrue: 2\n16: x\n016: y\n",
            "- kind: a\n- b\n",
            // Chart.yaml as from_yaml_raw reads it (every scalar a string; `<<` is a key).
            "apiVersion: v2\nversion: 1.10\nappVersion: 0777\nkubeVersion: 2024-01-02\nannotations:\n  a: yes\n  b: .inf\n  c: 1e40\n  d: ~\ndescription: A\n  long one\n",
            "",
            "# only a comment\n",
        ];
        for text in read {
            assert!(agrees(text), "not read by the fast reader: {text:?}");
        }
        // The fast reader reads these, but their values are built the long way: a null key
        // is an error, a merge key merges.
        for text in [
            "~: 1\n",
            "a:\n  null: 1\n",
            "<<: {a: 1}\nb: 2\n",
            "- <<: [{a: 1}, {b: 2}]\n",
            "a:\n  <<: x\n",
        ] {
            assert!(agrees(text), "not read by the fast reader: {text:?}");
        }
        assert_eq!(
            super::y("a: {1.5: x, 0x10: y, yes: z}\nb: [1, '2', 2024-01-02]\nc:\n"),
            super::y("{\"a\": {\"1.5\": x, \"16\": y, \"true\": z}, \"b\": [1.0, \"2\", \"2024-01-02\"], \"c\": null}")
        );
        assert_eq!(
            crate::yaml::from_yaml("a:\n  ~: 1\n")
                .unwrap_err()
                .to_string(),
            "error converting YAML to JSON: unsupported map key of type: <nil>"
        );
        assert_eq!(
            super::y("<<: {a: 1, b: 1}\nb: 2\n"),
            super::y("{\"a\": 1, \"b\": 2}")
        );
    }

    #[test]
    fn reads_the_repositorys_yaml_files_as_libyaml_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut stack = vec![root.join("charts"), root.join("tests")];
        let (mut files, mut read) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "out")
                {
                    let Ok(text) = std::fs::read_to_string(&path) else {
                        continue;
                    };
                    files += 1;
                    // Rendered manifests are read one document at a time.
                    for doc in text.split("\n---") {
                        if check_block_subset(doc)
                            .unwrap_or_else(|e| panic!("{}: {doc:?}\n{e}", path.display()))
                        {
                            read += 1;
                        }
                    }
                }
            }
        }
        assert!(
            files > 100 && read > 300,
            "{files} files, {read} documents read"
        );
    }
}

/// go-yaml v2's `keyList.Less` as it was written before the ASCII fast path: every key
/// decoded into chars. The reference the fast path is checked against.
fn natural_less_by_chars(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    (an, bn) = (1, 1);
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Keys from a small alphabet with the characters the order treats apart: letters of both
/// cases, digits (with zeros), punctuation, a non-ASCII letter and a non-ASCII non-letter.
fn arbitrary_keys(seed: u64, count: usize) -> Vec<String> {
    keys_of(
        &['a', 'b', 'Z', '_', '-', '.', '0', '1', '9', 'é', '·'],
        seed,
        count,
    )
}

fn keys_of(alphabet: &[char], seed: u64, count: usize) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        // xorshift64: a fixed, reproducible sequence
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = (next() % 6) as usize;
            (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[test]
fn natural_key_order_matches_the_char_by_char_reference() {
    let keys = arbitrary_keys(0x9e37_79b9_7f4a_7c15, 400);
    for a in &keys {
        for b in &keys {
            assert_eq!(
                super::encode::natural_less(a, b),
                natural_less_by_chars(a, b),
                "{a:?} against {b:?}"
            );
        }
    }
}

#[test]
fn map_keys_are_written_in_go_yamls_order_with_or_without_digits() {
    // A map's keys arrive in byte order; the writer must still print go-yaml's order,
    // whether the already-in-order shortcut applies (no digits) or not.
    for seed in 1..400u64 {
        let seed = seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let keys = if seed % 2 == 0 {
            arbitrary_keys(seed, 12)
        } else {
            keys_of(
                &['a', 'b', 'Z', 'z', '_', '-', '.', 'é', '·', 'Ω'],
                seed,
                12,
            )
        };
        let mut map = Map::new();
        for k in &keys {
            map.insert(k.clone(), Value::Int(1));
        }
        // The writer's merge sort, by the reference order, with no shortcut.
        fn merge_sort(mut v: Vec<&String>) -> Vec<&String> {
            if v.len() <= 1 {
                return v;
            }
            let right = merge_sort(v.split_off(v.len() / 2));
            let left = merge_sort(v);
            let (mut l, mut r, mut out) = (0, 0, Vec::new());
            while l < left.len() && r < right.len() {
                if natural_less_by_chars(right[r], left[l]).is_lt() {
                    out.push(right[r]);
                    r += 1;
                } else {
                    out.push(left[l]);
                    l += 1;
                }
            }
            out.extend(&left[l..]);
            out.extend(&right[r..]);
            out
        }
        let expected = merge_sort(map.keys().collect());
        // Each key written alone gives its line; the map is those lines in go-yaml's order.
        let line = |k: &str| {
            let mut one = Map::new();
            one.insert(k.to_string(), Value::Int(1));
            to_yaml(&Value::map(one)).unwrap()
        };
        let expected: String = expected.iter().map(|k| line(k)).collect();
        let written = to_yaml(&Value::map(map.clone())).unwrap();
        assert_eq!(written, expected, "keys {keys:?}");
    }
}
