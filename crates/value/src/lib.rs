//! The one dynamic value model of rudder: what a values file parses into, what templates
//! evaluate over and what template functions take and return.
//!
//! Helm works on Go's `interface{}` values, and many user-visible behaviours depend on the
//! exact Go type behind a value (`typeOf`, `%T`, `kindIs`, whether `eq` may compare two
//! values, how `%v` prints them). So a [`Value`] records the Go type it stands for:
//! numbers from YAML/JSON are `float64` ([`Value::Float`]), numbers written in a template are
//! `int` ([`Value::Int`]), Sprig's arithmetic gives `int64` ([`Value::Int64`]), and a few
//! Sprig functions return typed slices and maps ([`Value::Strings`], [`Value::Ints`],
//! [`Value::StrMap`]). Everything else that has Go methods or fields (`.Files`,
//! `.Capabilities`, a `semver` version, a `time.Time`) is an [`Object`].
//!
//! Maps are `BTreeMap`s: Go prints, ranges and serialises maps in sorted key order, and Go's
//! string order is byte order, which is `String`'s `Ord`.
//!
//! **Maps are shared and mutable, as Go maps are.** In Go, `{{ $_ := set $ctx "k" 1 }}` and
//! `{{ $_ := merge $dst $src }}` change the map in place and every holder of it sees the
//! change (charts rely on it). So [`Value::Map`] holds a [`Dict`]: an `Arc<RwLock<Map>>`.
//! Cloning a `Value` shares the map; use [`Dict::deep_clone`] for a copy. Never hold a guard
//! from [`Dict::read`]/[`Dict::write`] while calling code that may lock the same map again
//! (e.g. `merge $a $a`): take a [`Dict::snapshot`] first. Lists need no such care: nothing in
//! Go templates or Sprig mutates a slice in place.

use std::any::Any;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub mod goduration;
pub mod gofmt;
pub mod goio;
pub mod gotime;
pub mod json;
pub mod methods;
pub mod teardown;
pub mod threads;
pub mod yaml;

pub use methods::{Method, ParamType};

/// The one allocation behind every Go nil `[]interface{}` (see [`Value::nil_list`]).
static NIL_LIST: LazyLock<Arc<Vec<Value>>> = LazyLock::new(|| Arc::new(Vec::new()));
/// The one allocation behind every Go nil `[]string` (see [`Value::nil_strings`]).
static NIL_STRINGS: LazyLock<Arc<Vec<String>>> = LazyLock::new(|| Arc::new(Vec::new()));
/// The one allocation behind every Go nil `map[string]string` (see [`Value::nil_str_map`]).
static NIL_STR_MAP: LazyLock<Arc<BTreeMap<String, String>>> =
    LazyLock::new(|| Arc::new(BTreeMap::new()));

/// A `map[string]interface{}`.
pub type Map = BTreeMap<String, Value>;

/// A value of one of the Go types that Helm templates see.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's nil `interface{}`: a YAML/JSON `null`, a missing map key under `missingkey=zero`.
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`: template number constants, `len`, `atoi`, `int`.
    Int(i64),
    /// Go `int64`: `--set` integers, Sprig arithmetic (`add`, `mul`, `max`, ...), `int64`.
    Int64(i64),
    /// Go `float64`: every number read from YAML or JSON, float constants, `float64`.
    Float(f64),
    String(Arc<str>),
    /// Go `[]byte` (`.Files.GetBytes`).
    Bytes(Arc<[u8]>),
    /// Go `[]interface{}`. A nil slice ([`Value::nil_list`]) is this variant holding one
    /// shared sentinel allocation, so it costs no space and reads as an empty list everywhere
    /// except where Go tells nil from empty (JSON, `%#v`, `deepEqual`, `eq`).
    List(Arc<Vec<Value>>),
    /// Go `map[string]interface{}`: shared and mutable, see [`Dict`].
    Map(Dict),
    /// Go `[]string` (`splitList`, `keys`, `sortAlpha`, `regexSplit`, ...), or a named
    /// string-slice type (Helm's `common.VersionSet`), see [`StringSlice`].
    Strings(StringSlice),
    /// Go `[]int` (`until`, `untilStep`).
    Ints(Arc<Vec<i64>>),
    /// Go `map[string]string` (`split`, `splitn`).
    StrMap(Arc<BTreeMap<String, String>>),
    /// Anything with Go methods or struct fields.
    Object(Arc<dyn Object>),
}

/// The Go "kind" of a value, as `reflect.Kind.String()` names it (Sprig's `kindOf`/`kindIs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Invalid,
    Bool,
    Int,
    Int32,
    Int64,
    Uint8,
    Float64,
    String,
    Slice,
    Map,
    Struct,
    Ptr,
    Func,
}

impl Kind {
    /// The name Go's `reflect.Kind.String()` gives.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Invalid => "invalid",
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::Int32 => "int32",
            Kind::Int64 => "int64",
            Kind::Uint8 => "uint8",
            Kind::Float64 => "float64",
            Kind::String => "string",
            Kind::Slice => "slice",
            Kind::Map => "map",
            Kind::Struct => "struct",
            Kind::Ptr => "ptr",
            Kind::Func => "func",
        }
    }
}

/// A Go value with methods and/or fields: `.Files`, `.Capabilities`, `*semver.Version`,
/// `time.Time`, a generated certificate, ...
///
/// Templates reach it through `.Name` (a field, or a method called with the arguments that
/// follow) the way Go's `text/template` does: methods are looked up before fields.
pub trait Object: Send + Sync + fmt::Debug {
    /// The Go type as `%T` and Sprig's `typeOf` print it, e.g. `"*semver.Version"`.
    fn type_name(&self) -> &str;
    /// The Go kind (`reflect.Kind`): usually `Struct` or `Ptr`.
    fn kind(&self) -> Kind {
        Kind::Struct
    }
    /// True if the object has an exported method of that name.
    fn has_method(&self, _name: &str) -> bool {
        false
    }
    /// The parameter types of method `name`, when each is one [`ParamType`] names: the
    /// evaluator then counts and checks the arguments as text/template does before the call
    /// (`wrong number of args for Get: want 1 got 0`, `expected string; found 1`). `None`
    /// leaves the checking to [`Object::call_method`].
    fn method_params(&self, _name: &str) -> Option<&'static [ParamType]> {
        None
    }
    /// Calls a method. Only called when [`Object::has_method`] said yes. The error string is
    /// the Go error's text.
    fn call_method(&self, name: &str, _args: &[Value]) -> Result<Value, String> {
        Err(format!("no method {name}"))
    }
    /// An exported struct field (or map entry, for map-like objects); `None` if there is none.
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    /// How Go's `%v` prints it (a struct as `{a b}`, a pointer to struct as `&{a b}`, or its
    /// `String()` method's result when Go would call it).
    fn fmt_v(&self, out: &mut String);
    /// How `{{ x }}` prints it when the template reached it through a field: text/template
    /// then takes the field's address, so a `String()` method on the pointer type is used
    /// (`{{ .Capabilities.KubeVersion }}` prints `v1.36.0`, while `printf "%v"` and every
    /// function get a copy of the struct and print its fields).
    fn fmt_printed(&self, out: &mut String) {
        self.fmt_v(out)
    }
    /// For a struct: its exported fields as `json.Marshal` writes them, in declaration order
    /// with their JSON names (`toJson` keeps that order; `toYaml` sorts the keys).
    fn json_fields(&self) -> Option<Vec<(&'static str, Value)>> {
        None
    }
    /// Go's truth for `if`/`with`: false only for zero values of non-struct kinds.
    fn is_true(&self) -> bool {
        true
    }
    /// The value that `toYaml`/`toJson` serialise (Go's `json.Marshal` of the object), if any.
    /// A struct whose field order matters answers [`Object::json_fields`] instead.
    fn to_data(&self) -> Option<Value> {
        self.json_fields()
            .map(|fields| Value::map(fields.into_iter().map(|(k, v)| (k.into(), v)).collect()))
    }
    fn as_any(&self) -> &dyn Any;
}

/// A shared, mutable `map[string]interface{}` with Go's reference semantics.
///
/// A handle may instead see the map as Helm's named map type `common.Values`, as `.Values`
/// does in templates: the type belongs to the handle (Go's interface value), not to the
/// shared map, so `.Values.sub` or the result of `merge` on the same map stay plain.
#[derive(Clone, Default)]
pub struct Dict {
    map: Arc<RwLock<Map>>,
    helm_values: bool,
}

impl Dict {
    pub fn new(map: Map) -> Dict {
        Dict {
            map: Arc::new(RwLock::new(map)),
            helm_values: false,
        }
    }

    /// The same map, seen as Helm's `common.Values` (`typeOf`, `%T`, `%#v`, `dig`, `deepEqual`
    /// tell the difference).
    pub fn as_helm_values(&self) -> Dict {
        Dict {
            map: Arc::clone(&self.map),
            helm_values: true,
        }
    }

    /// The same map as a plain `map[string]interface{}` (what a Sprig function taking one
    /// returns).
    pub fn as_plain(&self) -> Dict {
        Dict {
            map: Arc::clone(&self.map),
            helm_values: false,
        }
    }

    /// True if this handle has Helm's `common.Values` type.
    pub fn is_helm_values(&self) -> bool {
        self.helm_values
    }

    /// Read access. A poisoned lock (a panic elsewhere) still gives the data.
    pub fn read(&self) -> RwLockReadGuard<'_, Map> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access, seen by every holder of this map.
    pub fn write(&self) -> RwLockWriteGuard<'_, Map> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The value at `key` (shared, not copied).
    pub fn get(&self, key: &str) -> Option<Value> {
        self.read().get(key).cloned()
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.read().contains_key(key)
    }

    pub fn insert(&self, key: impl Into<String>, value: Value) -> Option<Value> {
        self.write().insert(key.into(), value)
    }

    pub fn remove(&self, key: &str) -> Option<Value> {
        self.write().remove(key)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// The sorted keys.
    pub fn keys(&self) -> Vec<String> {
        self.read().keys().cloned().collect()
    }

    /// A copy of the top level (nested maps stay shared), taken under one short read lock.
    pub fn snapshot(&self) -> Map {
        self.read().clone()
    }

    /// A copy of the whole tree: no map in it is shared with the original.
    pub fn deep_clone(&self) -> Dict {
        let copy = Dict::new(
            self.read()
                .iter()
                .map(|(k, v)| (k.clone(), v.deep_clone()))
                .collect(),
        );
        // A deep copy keeps the Go type.
        Dict {
            helm_values: self.helm_values,
            ..copy
        }
    }

    /// The map itself when this handle is its only holder (no other `Dict` or `Value` shares
    /// it), so it can be changed or handed on without anyone else seeing it.
    pub fn get_mut(&mut self) -> Option<&mut Map> {
        Arc::get_mut(&mut self.map).map(|lock| lock.get_mut().unwrap_or_else(|e| e.into_inner()))
    }

    /// True if both are the same map (Go's map identity).
    pub fn ptr_eq(&self, other: &Dict) -> bool {
        Arc::ptr_eq(&self.map, &other.map)
    }
}

impl From<Map> for Dict {
    fn from(m: Map) -> Dict {
        Dict::new(m)
    }
}

impl fmt::Debug for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.read().iter()).finish()
    }
}

impl PartialEq for Dict {
    fn eq(&self, other: &Dict) -> bool {
        if self.helm_values != other.helm_values {
            return false;
        }
        if self.ptr_eq(other) {
            return true;
        }
        let (a, b) = (self.snapshot(), other.snapshot());
        a == b
    }
}

/// The Go type of a [`StringSlice`]: `[]string` itself or a named type whose underlying type
/// is `[]string`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringsType {
    /// `[]string`.
    Plain,
    /// Helm's `common.VersionSet` (`.Capabilities.APIVersions`): a `[]string` with a `Has`
    /// method. Every list function takes it as the `[]string` it is; only its type name, its
    /// method and `slice` (which keeps the type) tell it apart.
    VersionSet,
}

impl StringsType {
    /// The type name `%T`, `typeOf` and `%#v` print.
    pub fn go_name(self) -> &'static str {
        match self {
            StringsType::Plain => "[]string",
            StringsType::VersionSet => "common.VersionSet",
        }
    }
}

/// A Go slice of strings with its Go type (the type belongs to the handle, as with
/// [`Dict`]'s `common.Values` view). Dereferences to the strings.
#[derive(Clone)]
pub struct StringSlice {
    items: Arc<Vec<String>>,
    go_type: StringsType,
}

impl StringSlice {
    pub fn new(items: Vec<String>, go_type: StringsType) -> StringSlice {
        StringSlice {
            items: Arc::new(items),
            go_type,
        }
    }

    pub fn go_type(&self) -> StringsType {
        self.go_type
    }

    /// True for `[]string` itself (not a named type).
    pub fn is_plain(&self) -> bool {
        self.go_type == StringsType::Plain
    }

    /// The same strings with another Go type (Go's conversion `T(s)`, or `slice`'s result).
    pub fn with_type(&self, go_type: StringsType) -> StringSlice {
        StringSlice {
            items: Arc::clone(&self.items),
            go_type,
        }
    }

    fn is_nil(&self) -> bool {
        self.items.is_empty() && Arc::ptr_eq(&self.items, &NIL_STRINGS)
    }
}

impl std::ops::Deref for StringSlice {
    type Target = [String];
    fn deref(&self) -> &[String] {
        &self.items
    }
}

impl fmt::Debug for StringSlice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.go_type {
            StringsType::Plain => write!(f, "{:?}", self.items),
            other => write!(f, "{}({:?})", other.go_name(), self.items),
        }
    }
}

/// Like `reflect.DeepEqual`: the Go types must match too.
impl PartialEq for StringSlice {
    fn eq(&self, other: &StringSlice) -> bool {
        self.go_type == other.go_type && self.items == other.items
    }
}

impl Value {
    pub fn str(s: impl AsRef<str>) -> Value {
        Value::String(Arc::from(s.as_ref()))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn map(entries: Map) -> Value {
        Value::Map(Dict::new(entries))
    }

    /// A copy in which no map is shared with `self` (Go's deep copy of maps; slices and
    /// strings are immutable and stay shared).
    pub fn deep_clone(&self) -> Value {
        match self {
            Value::Map(d) => Value::Map(d.deep_clone()),
            Value::List(l)
                if l.iter()
                    .any(|v| matches!(v, Value::Map(_) | Value::List(_))) =>
            {
                Value::list(l.iter().map(Value::deep_clone).collect())
            }
            other => other.clone(),
        }
    }

    pub fn strings(items: Vec<String>) -> Value {
        Value::Strings(StringSlice::new(items, StringsType::Plain))
    }

    /// Helm's `common.VersionSet` (`.Capabilities.APIVersions`).
    pub fn version_set(items: Vec<String>) -> Value {
        Value::Strings(StringSlice::new(items, StringsType::VersionSet))
    }

    /// Go's nil `[]interface{}` (Sprig's `rest` of an empty list, `concat` of nothing): an
    /// empty list that `toJson` writes as `null`. Appending to it gives an ordinary list.
    pub fn nil_list() -> Value {
        Value::List(Arc::clone(&NIL_LIST))
    }

    /// Go's nil `[]string` (`regexFindAll` without a match).
    pub fn nil_strings() -> Value {
        Value::Strings(StringSlice {
            items: Arc::clone(&NIL_STRINGS),
            go_type: StringsType::Plain,
        })
    }

    /// Go's nil `map[string]string` (a chart's absent `annotations`): empty everywhere except
    /// where Go tells nil from empty (JSON writes `null`, `%#v`, `deepEqual`).
    pub fn nil_str_map() -> Value {
        Value::StrMap(Arc::clone(&NIL_STR_MAP))
    }

    /// True for a nil map from [`Value::nil_str_map`].
    pub fn is_nil_map(&self) -> bool {
        matches!(self, Value::StrMap(m) if m.is_empty() && Arc::ptr_eq(m, &NIL_STR_MAP))
    }

    /// True for a typed nil slice from [`Value::nil_list`] or [`Value::nil_strings`] (not for
    /// [`Value::Nil`], the nil interface).
    pub fn is_nil_slice(&self) -> bool {
        match self {
            Value::List(l) => l.is_empty() && Arc::ptr_eq(l, &NIL_LIST),
            Value::Strings(l) => l.is_nil(),
            _ => false,
        }
    }

    /// Go's `isNil` on an interface's content: the nil interface, a nil slice or map.
    pub fn is_go_nil(&self) -> bool {
        self.is_nil() || self.is_nil_slice() || self.is_nil_map()
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The shared map behind a `map[string]interface{}`.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Map(d) => Some(d),
            _ => None,
        }
    }

    /// Read access to a `map[string]interface{}` (a lock guard: keep it short).
    pub fn as_map(&self) -> Option<RwLockReadGuard<'_, Map>> {
        self.as_dict().map(Dict::read)
    }

    /// The items of a `[]interface{}`.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The elements of any slice kind, as values (`[]string` items become strings, ...).
    /// `None` for non-slices. `[]byte` is not treated as a list here.
    pub fn to_list(&self) -> Option<Cow<'_, [Value]>> {
        match self {
            Value::List(l) => Some(Cow::Borrowed(l.as_slice())),
            Value::Strings(s) => Some(Cow::Owned(s.iter().map(Value::str).collect())),
            Value::Ints(s) => Some(Cow::Owned(s.iter().map(|i| Value::Int(*i)).collect())),
            _ => None,
        }
    }

    /// A snapshot of the entries of any map kind, as values. `None` for non-maps.
    pub fn to_map(&self) -> Option<Map> {
        match self {
            Value::Map(d) => Some(d.snapshot()),
            Value::StrMap(m) => Some(m.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()),
            _ => None,
        }
    }

    /// Looks up a path of map keys (`"a.b.c"` as `["a","b","c"]`).
    pub fn get_path(&self, path: &[&str]) -> Option<Value> {
        let mut cur = self.clone();
        for key in path {
            let next = cur.as_dict()?.get(key)?;
            cur = next;
        }
        Some(cur)
    }

    /// The Go kind of the value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Int64(_) => Kind::Int64,
            Value::Float(_) => Kind::Float64,
            Value::String(_) => Kind::String,
            Value::Bytes(_) | Value::List(_) | Value::Strings(_) | Value::Ints(_) => Kind::Slice,
            Value::Map(_) | Value::StrMap(_) => Kind::Map,
            Value::Object(o) => o.kind(),
        }
    }

    /// The Go type name as `%T` prints it (`<nil>` for nil).
    pub fn type_name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::Bytes(_) => "[]uint8",
            Value::List(_) => "[]interface {}",
            Value::Map(d) if d.is_helm_values() => "common.Values",
            Value::Map(_) => "map[string]interface {}",
            Value::Strings(l) => l.go_type().go_name(),
            Value::Ints(_) => "[]int",
            Value::StrMap(_) => "map[string]string",
            Value::Object(o) => return Cow::Owned(o.type_name().to_string()),
        })
    }

    /// Go's notion of truth used by `if`, `with`, `and`, `or`, `not`: the zero value of its
    /// type (false, 0, "", nil, empty slice or map) is false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Strings(l) => !l.is_empty(),
            Value::Ints(l) => !l.is_empty(),
            Value::StrMap(m) => !m.is_empty(),
            Value::Object(o) => o.is_true(),
        }
    }

    /// How Go's `fmt` prints the value with `%v` (and so `{{ . }}`, `print`, `toString`).
    pub fn to_go_string(&self) -> String {
        let mut out = String::new();
        gofmt::write_v(&mut out, self);
        out
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Int64(i) => write!(f, "Int64({i})"),
            Value::Float(x) => write!(f, "Float({x:?})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Bytes(b) => write!(f, "Bytes({b:?})"),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => m.fmt(f),
            Value::Strings(l) => write!(f, "Strings({l:?})"),
            Value::Ints(l) => write!(f, "Ints({l:?})"),
            Value::StrMap(m) => write!(f, "StrMap({m:?})"),
            Value::Object(o) => write!(f, "Object({o:?})"),
        }
    }
}

/// Structural equality, close to Go's `reflect.DeepEqual` (Sprig's `deepEqual`, `has`, `uniq`),
/// for tests and for data comparisons (not Go's `eq`, whose type rules live in the template
/// engine). Objects compare equal only to themselves.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Nil, Nil) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) | (Int64(a), Int64(b)) => a == b,
            (Float(a), Float(b)) => a == b,
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            // Like reflect.DeepEqual, a nil slice differs from an empty one.
            (List(_), List(_)) | (Strings(_), Strings(_))
                if self.is_nil_slice() != other.is_nil_slice() =>
            {
                false
            }
            (StrMap(_), StrMap(_)) if self.is_nil_map() != other.is_nil_map() => false,
            (List(a), List(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            (Strings(a), Strings(b)) => a == b,
            (Ints(a), Ints(b)) => a == b,
            (StrMap(a), StrMap(b)) => a == b,
            (Object(a), Object(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Arc::from(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::map(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(l: Vec<Value>) -> Value {
        Value::list(l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stays_small() {
        // Every template evaluation moves Values around: a nil slice must not cost a word.
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert!(std::mem::size_of::<Dict>() <= 16);
    }

    #[test]
    fn nil_slices_read_as_empty_but_differ_from_empty() {
        let nil = Value::nil_list();
        assert!(nil.is_nil_slice() && nil.is_go_nil() && !nil.is_nil());
        assert_eq!(nil.as_list(), Some(&[][..]));
        assert!(nil.clone().is_nil_slice());
        assert!(!Value::list(Vec::new()).is_nil_slice());
        assert_ne!(nil, Value::list(Vec::new()));
        assert_eq!(nil, Value::nil_list());
        assert!(Value::nil_strings().is_nil_slice());
        assert_ne!(Value::nil_strings(), Value::strings(Vec::new()));
        assert!(!Value::Nil.is_nil_slice());
    }

    #[test]
    fn helm_values_is_a_view_of_the_same_map() {
        let plain = Dict::new(Map::new());
        let values = plain.as_helm_values();
        values.insert("a", Value::Int(1));
        assert!(plain.contains_key("a") && values.ptr_eq(&plain));
        assert_eq!(Value::Map(values.clone()).type_name(), "common.Values");
        assert_eq!(
            Value::Map(plain.clone()).type_name(),
            "map[string]interface {}"
        );
        assert!(values.deep_clone().is_helm_values());
        assert_ne!(values, plain);
        assert_eq!(values.as_plain(), plain);
    }
}
