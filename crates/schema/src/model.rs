//! The Table Schema model: fields, types, constraints, and the built-in schemas.

use serde::Deserialize;
use serde_json::Value;
use std::path::Path;

/// The kinds of file coopbench ships a schema for (`--kind`).
pub const BUILTIN_KINDS: &[&str] = &["sales", "costs"];

/// A problem with a schema document itself (not with data).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema file could not be read.
    #[error("cannot read schema {path}: {source}")]
    Io {
        /// The schema path.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The schema is not valid JSON or not a Table Schema.
    #[error("schema {path} is not a valid Table Schema: {message}")]
    Invalid {
        /// The schema path or name.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// `--kind` named no built-in schema.
    #[error("unknown kind {0:?}: expected one of {kinds}", kinds = BUILTIN_KINDS.join(", "))]
    UnknownKind(String),
}

/// A field's logical type (the subset of Table Schema types coopbench supports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Any text.
    String,
    /// A whole number, optionally signed.
    Integer,
    /// A decimal number, `NaN`, `INF` or `-INF`.
    Number,
    /// A calendar date.
    Date,
    /// One of the field's true or false values.
    Boolean,
}

impl FieldType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "integer" => Self::Integer,
            "number" => Self::Number,
            "date" => Self::Date,
            "boolean" => Self::Boolean,
            _ => return None,
        })
    }

    /// The Table Schema name of the type.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Number => "number",
            Self::Date => "date",
            Self::Boolean => "boolean",
        }
    }
}

/// The constraints of one field. Bounds are kept as JSON values and interpreted
/// in the field's type.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    /// A missing value is an error.
    pub required: bool,
    /// Present values must not repeat within the file (missing values are ignored).
    pub unique: bool,
    /// Inclusive lower bound (integer, number, date).
    pub minimum: Option<Value>,
    /// Inclusive upper bound (integer, number, date).
    pub maximum: Option<Value>,
    /// Minimum length in characters (string).
    pub min_length: Option<u64>,
    /// Maximum length in characters (string).
    pub max_length: Option<u64>,
    /// The allowed values.
    pub enum_values: Option<Vec<Value>>,
    /// A regular expression the whole value must match (implicitly anchored, as in XML Schema).
    pub pattern: Option<String>,
}

/// One column of a schema.
#[derive(Debug, Clone)]
pub struct Field {
    /// The field name, as the schema spells it.
    pub name: String,
    /// Its type.
    pub field_type: FieldType,
    /// The `format` (for dates: `default`, `any`, or a strptime pattern such as `%d.%m.%Y`).
    pub format: Option<String>,
    /// Its constraints.
    pub constraints: Constraints,
    /// `coopbench:shareable`: false for fields that may be validated but never used by a metric.
    pub shareable: bool,
    /// Values that mean true (boolean fields).
    pub true_values: Vec<String>,
    /// Values that mean false (boolean fields).
    pub false_values: Vec<String>,
}

/// A Frictionless Table Schema.
#[derive(Debug, Clone)]
pub struct TableSchema {
    /// A short name for reports, e.g. `sales.v1`.
    pub name: String,
    /// The fields, in schema order.
    pub fields: Vec<Field>,
    /// Cell values that mean "missing" (default `[""]`).
    pub missing_values: Vec<String>,
    /// Fields whose combination must be unique (and present).
    pub primary_key: Vec<String>,
}

#[derive(Deserialize)]
struct RawSchema {
    fields: Vec<RawField>,
    #[serde(rename = "missingValues", default = "default_missing")]
    missing_values: Vec<String>,
    #[serde(rename = "primaryKey", default)]
    primary_key: Option<Value>,
    #[serde(rename = "coopbench:id", default)]
    id: Option<String>,
    #[serde(rename = "coopbench:version", default)]
    version: Option<u32>,
}

fn default_missing() -> Vec<String> {
    vec![String::new()]
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(rename = "type", default = "default_type")]
    field_type: String,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    constraints: RawConstraints,
    #[serde(rename = "coopbench:shareable", default = "yes")]
    shareable: bool,
    #[serde(rename = "trueValues", default)]
    true_values: Option<Vec<String>>,
    #[serde(rename = "falseValues", default)]
    false_values: Option<Vec<String>>,
}

fn default_type() -> String {
    "string".into()
}
fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConstraints {
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unique: bool,
    minimum: Option<Value>,
    maximum: Option<Value>,
    #[serde(rename = "minLength")]
    min_length: Option<u64>,
    #[serde(rename = "maxLength")]
    max_length: Option<u64>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<Value>>,
    pattern: Option<String>,
}

impl TableSchema {
    /// Parses a schema from JSON text; `name` is used in reports and errors.
    pub fn from_json(name: &str, text: &str) -> Result<Self, SchemaError> {
        let invalid = |message: String| SchemaError::Invalid {
            path: name.to_string(),
            message,
        };
        let raw: RawSchema = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let mut fields = Vec::with_capacity(raw.fields.len());
        for f in raw.fields {
            let field_type = FieldType::parse(&f.field_type).ok_or_else(|| {
                invalid(format!(
                    "field {:?}: unsupported type {:?} (supported: string, integer, number, date, boolean)",
                    f.name, f.field_type
                ))
            })?;
            let c = f.constraints;
            let constraints = Constraints {
                // A field no metric may use is never required of a member.
                required: c.required && f.shareable,
                unique: c.unique,
                minimum: c.minimum,
                maximum: c.maximum,
                min_length: c.min_length,
                max_length: c.max_length,
                enum_values: c.enum_values,
                pattern: c.pattern,
            };
            let field = Field {
                name: f.name,
                field_type,
                format: f.format,
                constraints,
                shareable: f.shareable,
                true_values: f
                    .true_values
                    .unwrap_or_else(|| ["true", "True", "TRUE", "1"].map(String::from).to_vec()),
                false_values: f
                    .false_values
                    .unwrap_or_else(|| ["false", "False", "FALSE", "0"].map(String::from).to_vec()),
            };
            field.check().map_err(invalid)?;
            if fields.iter().any(|g: &Field| g.name == field.name) {
                return Err(invalid(format!("field {:?} is declared twice", field.name)));
            }
            fields.push(field);
        }
        if fields.is_empty() {
            return Err(invalid("the schema has no fields".into()));
        }
        let primary_key = match raw.primary_key {
            None => vec![],
            Some(Value::String(s)) => vec![s],
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    other => Err(invalid(format!(
                        "primaryKey entry {other} is not a field name"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(invalid(format!(
                    "primaryKey {other} is not a field name or list"
                )))
            }
        };
        for k in &primary_key {
            if !fields.iter().any(|f| &f.name == k) {
                return Err(invalid(format!("primaryKey names unknown field {k:?}")));
            }
        }
        let name = match (raw.id, raw.version) {
            (Some(id), Some(v)) => format!("{id}.v{v}"),
            (Some(id), None) => id,
            _ => name.to_string(),
        };
        Ok(Self {
            name,
            fields,
            missing_values: raw.missing_values,
            primary_key,
        })
    }

    /// Reads a schema file.
    pub fn from_path(path: &Path) -> Result<Self, SchemaError> {
        let text = coopbench_fsio::read_text_bounded(
            path,
            crate::settings::CONFIG_MAX_BYTES,
            "a schema file",
        )
        .map_err(|source| SchemaError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&path.display().to_string(), &text)
    }

    /// The field with this name, if any.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

impl Field {
    /// Rejects constraints that make no sense for the field's type.
    fn check(&self) -> Result<(), String> {
        let c = &self.constraints;
        let ordered = matches!(
            self.field_type,
            FieldType::Integer | FieldType::Number | FieldType::Date
        );
        if (c.minimum.is_some() || c.maximum.is_some()) && !ordered {
            return Err(format!(
                "field {:?}: minimum/maximum apply to integer, number and date fields, not {}",
                self.name,
                self.field_type.name()
            ));
        }
        if (c.min_length.is_some() || c.max_length.is_some())
            && self.field_type != FieldType::String
        {
            return Err(format!(
                "field {:?}: minLength/maxLength apply to string fields",
                self.name
            ));
        }
        if c.pattern.is_some() && self.field_type != FieldType::String {
            return Err(format!(
                "field {:?}: pattern applies to string fields",
                self.name
            ));
        }
        if let Some(p) = &c.pattern {
            regex::Regex::new(&anchored(p)).map_err(|e| {
                format!(
                    "field {:?}: pattern {p:?} is not a valid regular expression: {e}",
                    self.name
                )
            })?;
        }
        if self.field_type == FieldType::Date {
            if let Some(f) = &self.format {
                if f != "default" && f != "any" && !f.contains('%') {
                    return Err(format!(
                        "field {:?}: date format {f:?} is not default, any, or a strptime pattern like %d.%m.%Y",
                        self.name
                    ));
                }
            }
        }
        if let Some(v) = c.enum_values.as_ref() {
            if v.is_empty() {
                return Err(format!("field {:?}: enum is empty", self.name));
            }
        }
        Ok(())
    }
}

/// A built-in schema by kind (`sales`, `costs`), as published in `schemas/`.
pub fn builtin(kind: &str) -> Result<TableSchema, SchemaError> {
    let (name, text) = match kind {
        "sales" => (
            "sales.v1.json",
            include_str!("../../../schemas/sales.v1.json"),
        ),
        "costs" => (
            "costs.v1.json",
            include_str!("../../../schemas/costs.v1.json"),
        ),
        other => return Err(SchemaError::UnknownKind(other.to_string())),
    };
    TableSchema::from_json(name, text)
}

/// The pattern as a whole-value match: Table Schema patterns follow XML Schema,
/// where a pattern must match the entire value, not a substring.
pub(crate) fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}
