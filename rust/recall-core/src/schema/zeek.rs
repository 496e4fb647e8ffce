//! Zeek's logging types and their one Arrow representation.
//!
//! Stage: schema (shared by the TSV and JSON decoders, later by ECS mapping and index
//! templates). Must not import `decode` (the decoders depend on this module, not the reverse).
//!
//! Mapping (the design contract other stages build against):
//!
//! | Zeek type | Arrow type |
//! |---|---|
//! | `time` | `Timestamp(Nanosecond, "UTC")` |
//! | `interval` | `Duration(Nanosecond)` |
//! | `count` | `UInt64` (values above 2^63 occur) |
//! | `int` | `Int64` |
//! | `double` | `Float64` |
//! | `bool` | `Boolean` |
//! | `port` | `UInt16` (the protocol is a separate column) |
//! | `addr`, `subnet` | `Utf8`, canonical text |
//! | `string`, `enum`, `pattern`, anything unknown | `Utf8` |
//! | `set[T]`, `vector[T]` (`table[T]`, `list{T}`) | `List<T>`, item field `"item"`, nullable |
//!
//! Every Arrow field carries metadata `zeek.type` with the normalised type name
//! (`table[T]` is written `set[T]`, `list{T}` / `list[T]` is written `vector[T]`), so the
//! original Zeek type survives a trip through Arrow, Parquet and Python.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_schema::{DataType, Field, TimeUnit};

/// Field metadata key holding the normalised Zeek type name.
pub const ZEEK_TYPE_KEY: &str = "zeek.type";
/// Schema metadata key holding the log type (`#path`, JSON `_path`, or the caller's choice).
pub const ZEEK_PATH_KEY: &str = "zeek.path";
/// Field metadata key set to `"true"` on JSON columns whose type was inferred from values
/// because the registry did not know the field.
pub const ZEEK_INFERRED_KEY: &str = "zeek.inferred";
/// Name of the item field of every list column (Arrow's convention, what pyarrow produces).
pub const LIST_ITEM_NAME: &str = "item";

/// A scalar Zeek type: the element type of containers and the type of plain columns.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZeekScalar {
    /// `time`: seconds since the epoch with a decimal fraction.
    Time,
    /// `interval`: seconds with a decimal fraction.
    Interval,
    /// `count`: unsigned 64-bit.
    Count,
    /// `int`: signed 64-bit.
    Int,
    /// `double`: 64-bit float (`inf`, `-inf`, `nan` allowed).
    Double,
    /// `bool`: `T` / `F` in TSV, `true` / `false` in JSON.
    Bool,
    /// `addr`: IPv4 or IPv6 address, kept as canonical text.
    Addr,
    /// `subnet`: `addr/prefix`, kept as canonical text.
    Subnet,
    /// `port`: 0..=65535.
    Port,
    /// `enum`: text.
    Enum,
    /// `string`: text.
    String,
    /// `pattern`: regular expression text.
    Pattern,
    /// Any other type name (`func`, `file`, nested containers, plugin types): decoded as text,
    /// never a failure. Holds the name as written.
    Other(String),
}

/// A Zeek log column type: a scalar or a container of scalars (Zeek cannot log nested
/// containers; a nested name parses as a container of [`ZeekScalar::Other`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ZeekType {
    /// A plain value.
    Scalar(ZeekScalar),
    /// `set[T]` (also old `table[T]`): unordered elements.
    Set(ZeekScalar),
    /// `vector[T]` (also `list{T}`): ordered elements.
    Vector(ZeekScalar),
}

impl ZeekScalar {
    /// Parse a scalar type name. Unknown names become [`ZeekScalar::Other`], never an error.
    pub fn parse(name: &str) -> Self {
        match name.trim() {
            "time" => Self::Time,
            "interval" => Self::Interval,
            "count" | "counter" => Self::Count,
            "int" => Self::Int,
            "double" => Self::Double,
            "bool" => Self::Bool,
            "addr" => Self::Addr,
            "subnet" => Self::Subnet,
            "port" => Self::Port,
            "enum" => Self::Enum,
            "string" => Self::String,
            "pattern" => Self::Pattern,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The normalised name (what goes into `zeek.type`).
    pub fn name(&self) -> &str {
        match self {
            Self::Time => "time",
            Self::Interval => "interval",
            Self::Count => "count",
            Self::Int => "int",
            Self::Double => "double",
            Self::Bool => "bool",
            Self::Addr => "addr",
            Self::Subnet => "subnet",
            Self::Port => "port",
            Self::Enum => "enum",
            Self::String => "string",
            Self::Pattern => "pattern",
            Self::Other(name) => name,
        }
    }

    /// The Arrow type of one value of this scalar.
    pub fn arrow_type(&self) -> DataType {
        match self {
            Self::Time => DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from("UTC"))),
            Self::Interval => DataType::Duration(TimeUnit::Nanosecond),
            Self::Count => DataType::UInt64,
            Self::Int => DataType::Int64,
            Self::Double => DataType::Float64,
            Self::Bool => DataType::Boolean,
            Self::Port => DataType::UInt16,
            Self::Addr
            | Self::Subnet
            | Self::Enum
            | Self::String
            | Self::Pattern
            | Self::Other(_) => DataType::Utf8,
        }
    }

    /// Whether values are text (string-like columns: `(empty)` means the empty string).
    pub fn is_text(&self) -> bool {
        matches!(self.arrow_type(), DataType::Utf8)
    }
}

impl ZeekType {
    /// Parse a type name as written in `#types` or in the registry.
    ///
    /// Accepts `set[T]`, `table[T]` (Bro 2.x spelling of a set), `vector[T]`, `list{T}` and
    /// `list[T]`; anything unknown becomes text (`ZeekScalar::Other`), never an error.
    pub fn parse(name: &str) -> Self {
        let name = name.trim();
        if let Some(inner) =
            container_inner(name, "set[", ']').or_else(|| container_inner(name, "table[", ']'))
        {
            return Self::Set(element(inner));
        }
        if let Some(inner) = container_inner(name, "vector[", ']')
            .or_else(|| container_inner(name, "list{", '}'))
            .or_else(|| container_inner(name, "list[", ']'))
        {
            return Self::Vector(element(inner));
        }
        Self::Scalar(ZeekScalar::parse(name))
    }

    /// The scalar type of the values (the element type for containers).
    pub fn scalar(&self) -> &ZeekScalar {
        match self {
            Self::Scalar(s) | Self::Set(s) | Self::Vector(s) => s,
        }
    }

    /// Whether this is a container (`set`/`vector`).
    pub fn is_container(&self) -> bool {
        !matches!(self, Self::Scalar(_))
    }

    /// The normalised type name stored in field metadata.
    pub fn normalized_name(&self) -> String {
        self.to_string()
    }

    /// The Arrow data type of a column of this Zeek type.
    pub fn arrow_type(&self) -> DataType {
        match self {
            Self::Scalar(s) => s.arrow_type(),
            Self::Set(s) | Self::Vector(s) => {
                DataType::List(Arc::new(Field::new(LIST_ITEM_NAME, s.arrow_type(), true)))
            }
        }
    }

    /// The Arrow field of a column: name as Zeek writes it, nullable, `zeek.type` metadata.
    ///
    /// A NUL byte in the name (only hostile or corrupt input has one: Zeek escapes control
    /// bytes in headers) is written as Zeek's escape `\x00`: the Arrow C Data Interface carries
    /// names as C strings, so a raw NUL would make every export of the batch fail.
    pub fn arrow_field(&self, name: &str) -> Field {
        let mut metadata = HashMap::with_capacity(1);
        metadata.insert(ZEEK_TYPE_KEY.to_owned(), self.normalized_name());
        let field = if name.contains('\0') {
            Field::new(name.replace('\0', "\\x00"), self.arrow_type(), true)
        } else {
            Field::new(name, self.arrow_type(), true)
        };
        field.with_metadata(metadata)
    }
}

impl fmt::Display for ZeekType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Scalar(s) => f.write_str(s.name()),
            Self::Set(s) => write!(f, "set[{}]", s.name()),
            Self::Vector(s) => write!(f, "vector[{}]", s.name()),
        }
    }
}

/// `prefix ... close` -> the inner text, if `name` has that shape.
fn container_inner<'a>(name: &'a str, prefix: &str, close: char) -> Option<&'a str> {
    name.strip_prefix(prefix)?.strip_suffix(close)
}

/// Element type of a container. Nested containers cannot be split with one separator, so a
/// nested element type is kept as opaque text.
fn element(inner: &str) -> ZeekScalar {
    let inner = inner.trim();
    if inner.contains('[') || inner.contains('{') || inner.contains(',') {
        ZeekScalar::Other(inner.to_owned())
    } else {
        ZeekScalar::parse(inner)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises_container_spellings() {
        assert_eq!(
            ZeekType::parse("table[string]"),
            ZeekType::Set(ZeekScalar::String)
        );
        assert_eq!(ZeekType::parse("set[addr]").to_string(), "set[addr]");
        assert_eq!(ZeekType::parse("table[enum]").to_string(), "set[enum]");
        assert_eq!(
            ZeekType::parse("list{interval}").to_string(),
            "vector[interval]"
        );
        assert_eq!(
            ZeekType::parse("vector[interval]"),
            ZeekType::Vector(ZeekScalar::Interval)
        );
    }

    #[test]
    fn unknown_names_are_text_not_errors() {
        let t = ZeekType::parse("func");
        assert_eq!(t.arrow_type(), DataType::Utf8);
        assert_eq!(t.to_string(), "func");
        let nested = ZeekType::parse("vector[set[string]]");
        assert_eq!(nested.to_string(), "vector[set[string]]");
        assert!(matches!(nested.scalar(), ZeekScalar::Other(_)));
    }

    #[test]
    fn nul_in_a_field_name_becomes_zeek_escape() {
        let field = ZeekType::parse("string").arrow_field("a\0b");
        assert_eq!(field.name(), "a\\x00b");
        assert_eq!(ZeekType::parse("string").arrow_field("ab").name(), "ab");
    }

    #[test]
    fn arrow_mapping_matches_the_contract() {
        assert_eq!(
            ZeekType::parse("time").arrow_type(),
            DataType::Timestamp(TimeUnit::Nanosecond, Some(Arc::from("UTC")))
        );
        assert_eq!(
            ZeekType::parse("interval").arrow_type(),
            DataType::Duration(TimeUnit::Nanosecond)
        );
        assert_eq!(ZeekType::parse("count").arrow_type(), DataType::UInt64);
        assert_eq!(ZeekType::parse("port").arrow_type(), DataType::UInt16);
        let field = ZeekType::parse("table[string]").arrow_field("tunnel_parents");
        assert_eq!(
            field.metadata().get(ZEEK_TYPE_KEY).map(String::as_str),
            Some("set[string]")
        );
        match field.data_type() {
            DataType::List(item) => {
                assert_eq!(item.name(), "item");
                assert!(item.is_nullable());
                assert_eq!(item.data_type(), &DataType::Utf8);
            }
            other => panic!("not a list: {other}"),
        }
    }
}
