//! The label map: one class name a line, index = line number (blank lines are skipped).

use std::path::{Path, PathBuf};

/// Why a label map could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error("labels {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("labels {}: the file has no labels", path.display())]
    Empty { path: PathBuf },
    #[error(
        "labels {}: {labels} labels, but the model has {classes} classes (is it the label map of another model?)",
        path.display()
    )]
    CountMismatch {
        path: PathBuf,
        labels: usize,
        classes: usize,
    },
    #[error("labels {}: no label named `{name}` (labels: {known})", path.display())]
    Unknown {
        path: PathBuf,
        name: String,
        known: String,
    },
}

/// A model's class names.
#[derive(Debug, Clone, PartialEq)]
pub struct Labels {
    names: Vec<String>,
    path: PathBuf,
}

impl Labels {
    pub fn load(path: &Path) -> Result<Self, LabelError> {
        let text = std::fs::read_to_string(path).map_err(|cause| LabelError::Read {
            path: path.to_owned(),
            cause,
        })?;
        Self::parse(&text, path)
    }

    /// From the file's text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, LabelError> {
        let names: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if names.is_empty() {
            return Err(LabelError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            names,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&str> {
        self.names.get(index).map(String::as_str)
    }

    /// Whether index 0 is a background placeholder (`???` or `background`), as in label maps
    /// whose model numbers real classes from 1.
    pub fn has_background(&self) -> bool {
        matches!(self.names[0].as_str(), "???" | "background")
    }

    /// The index of the class called `name` (case-insensitive).
    pub fn index_of(&self, name: &str) -> Result<usize, LabelError> {
        self.names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| LabelError::Unknown {
                path: self.path.clone(),
                name: name.to_owned(),
                known: self.names.join(", "),
            })
    }

    /// Fails unless there is one label per model class.
    pub fn expect_count(&self, classes: usize) -> Result<(), LabelError> {
        if self.names.len() != classes {
            return Err(LabelError::CountMismatch {
                path: self.path.clone(),
                labels: self.names.len(),
                classes,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_label_map_has_person_at_4() {
        let l = Labels::load(Path::new("models/object_detection_oidv4_labelmap.txt")).unwrap();
        assert_eq!(l.len(), 24);
        assert!(l.has_background());
        assert_eq!(l.index_of("person").unwrap(), 4);
        assert_eq!(l.get(4), Some("Person"));
        l.expect_count(24).unwrap();
    }

    #[test]
    fn mismatch_unknown_and_empty_are_clear_errors() {
        let l = Labels::parse("???\nperson\ncar\n", Path::new("l.txt")).unwrap();
        let e = l.expect_count(24).unwrap_err().to_string();
        assert!(
            e.contains("l.txt") && e.contains("3 labels") && e.contains("24 classes"),
            "{e}"
        );
        let e = l.index_of("dog").unwrap_err().to_string();
        assert!(e.contains("no label named `dog`"), "{e}");
        let e = Labels::parse("\n \n", Path::new("e.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("e.txt") && e.contains("no labels"), "{e}");
        let e = Labels::load(Path::new("no/such/labels.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no/such/labels.txt"), "{e}");
    }
}
