//! The support policies helpers explain (政策解读), from `policies.toml`:
//! departments and policies with eligibility, department, how to apply,
//! what is given, the standard and the hotline. Errors name the file and
//! the line, like the configuration's: `policies.toml:12: policies[1].id
//! "dibao" is already used by policies[0]`.
//!
//! A missing file means the hall lists no policies; a file that exists and
//! is malformed is an error.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use greenwave_core::is_code;

/// A department that owns policies (民政, 教育, 医保, 住建, 卫健, 残联).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Short ASCII id (`civil`).
    pub id: String,
    /// Name (`民政局`).
    pub name: String,
}

/// One support policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Short ASCII id (`dibao`), used by the API.
    pub id: String,
    /// Title (`最低生活保障`).
    pub title: String,
    /// Id of the department in charge (主管部门).
    pub department: String,
    /// Who qualifies (适用对象).
    pub eligibility: String,
    /// How to apply (申请方式).
    pub how_to_apply: String,
    /// What is given (保障内容).
    pub benefit: String,
    /// The standard (保障标准).
    pub standard: String,
    /// The hotline (咨询电话).
    pub phone: String,
}

/// The loaded list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policies {
    /// Departments in file order.
    pub departments: Vec<Department>,
    /// Policies in file order.
    pub policies: Vec<Policy>,
}

impl Policies {
    /// A policy by id.
    pub fn get(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id)
    }
}

/// Why `policies.toml` was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The file is malformed; `line` is 1-based when known.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The line.
        line: Option<usize>,
        /// What is wrong, naming the key.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    departments: Vec<Department>,
    #[serde(default)]
    policies: Vec<Policy>,
}

/// Loads `path`; a missing file is an empty list.
pub fn load(path: &Path) -> Result<Policies, PolicyError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Policies::default()),
        Err(source) => Err(PolicyError::Read {
            file: path.to_path_buf(),
            source,
        }),
    }
}

/// Parses and validates the text of a policies file; `path` names it in
/// errors.
pub fn parse(text: &str, path: &Path) -> Result<Policies, PolicyError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| PolicyError::Invalid {
        file: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    validate(&raw).map_err(|(table, i, key, message)| PolicyError::Invalid {
        file: path.to_path_buf(),
        line: locate(text, table, i, key),
        message: format!("{table}[{i}].{key} {message}"),
    })?;
    Ok(Policies {
        departments: raw.departments,
        policies: raw.policies,
    })
}

type Invalid = (&'static str, usize, &'static str, String);

fn validate(raw: &RawFile) -> Result<(), Invalid> {
    for (i, d) in raw.departments.iter().enumerate() {
        if !is_code(&d.id) {
            return Err((
                "departments",
                i,
                "id",
                format!("\"{}\" must be 1-32 characters of a-z, 0-9, _ or -", d.id),
            ));
        }
        if let Some(j) = raw.departments[..i].iter().position(|o| o.id == d.id) {
            return Err((
                "departments",
                i,
                "id",
                format!("\"{}\" is already used by departments[{j}]", d.id),
            ));
        }
        if d.name.trim().is_empty() {
            return Err(("departments", i, "name", "must not be empty".into()));
        }
    }
    for (i, p) in raw.policies.iter().enumerate() {
        if !is_code(&p.id) {
            return Err((
                "policies",
                i,
                "id",
                format!("\"{}\" must be 1-32 characters of a-z, 0-9, _ or -", p.id),
            ));
        }
        if let Some(j) = raw.policies[..i].iter().position(|o| o.id == p.id) {
            return Err((
                "policies",
                i,
                "id",
                format!("\"{}\" is already used by policies[{j}]", p.id),
            ));
        }
        if !raw.departments.iter().any(|d| d.id == p.department) {
            let known: Vec<&str> = raw.departments.iter().map(|d| d.id.as_str()).collect();
            return Err((
                "policies",
                i,
                "department",
                format!(
                    "\"{}\" is not a department id (known: {})",
                    p.department,
                    known.join(", ")
                ),
            ));
        }
        for (key, value) in [
            ("title", &p.title),
            ("eligibility", &p.eligibility),
            ("how_to_apply", &p.how_to_apply),
            ("benefit", &p.benefit),
            ("standard", &p.standard),
            ("phone", &p.phone),
        ] {
            if value.trim().is_empty() {
                return Err(("policies", i, key, "must not be empty".into()));
            }
        }
    }
    Ok(())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The line of `table[i].key`, else of `table[i]`.
fn locate(text: &str, table: &str, i: usize, key: &str) -> Option<usize> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let item = doc.as_item().get(table)?.get(i)?;
    let span = item
        .as_table_like()
        .and_then(|t| t.get_key_value(key))
        .and_then(|(k, _)| k.span())
        .or_else(|| item.span())?;
    Some(line_of(text, span.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[[departments]]
id = "civil"
name = "民政局"

[[policies]]
id = "dibao"
title = "最低生活保障"
department = "civil"
eligibility = "a"
how_to_apply = "b"
benefit = "c"
standard = "d"
phone = "12345"
"#;

    #[test]
    fn parses_and_names_lines() {
        let p = parse(OK, Path::new("p.toml")).unwrap();
        assert_eq!(p.get("dibao").unwrap().title, "最低生活保障");
        let bad = OK.replace("department = \"civil\"", "department = \"tax\"");
        let e = parse(&bad, Path::new("p.toml")).unwrap_err().to_string();
        assert!(
            e.starts_with("p.toml:9: policies[0].department \"tax\""),
            "{e}"
        );
        let bad = OK.replace("phone = \"12345\"", "phone = 12345");
        let e = parse(&bad, Path::new("p.toml")).unwrap_err().to_string();
        assert!(e.starts_with("p.toml:14:"), "{e}");
        let bad = format!("{OK}\n[[policies]]\nid = \"dibao\"\n");
        let e = parse(&bad, Path::new("p.toml")).unwrap_err().to_string();
        assert!(e.contains("p.toml:"), "{e}");
    }

    #[test]
    fn missing_file_is_empty() {
        let p = load(Path::new("/nonexistent/policies.toml")).unwrap();
        assert!(p.policies.is_empty());
    }

    #[test]
    fn shipped_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/policies.toml");
        let p = load(&path).unwrap();
        assert_eq!(p.departments.len(), 6);
        assert!(p.policies.len() >= 8);
        for d in &p.departments {
            assert!(p.policies.iter().any(|x| x.department == d.id), "{}", d.id);
        }
    }
}
