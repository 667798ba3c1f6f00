//! Dotted field paths for validation errors (`event.targets.0.metadata.role`), built as a chain
//! of borrowed segments and formatted only when an error is recorded: a valid event allocates
//! no path strings at all.

use std::fmt;

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// One field's path: its segment and, unless it is at the top of the body, its parent's path.
#[derive(Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    segment: Segment<'a>,
}

impl<'a> FieldPath<'a> {
    /// A member of the request body itself (`organization_id`, `event`).
    pub const fn root(key: &'a str) -> Self {
        FieldPath {
            parent: None,
            segment: Segment::Key(key),
        }
    }

    /// The member `key` of the object at this path.
    pub fn key(&'a self, key: &'a str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    /// The member name this path ends in (empty for an array item).
    pub fn last_key(&self) -> &'a str {
        match self.segment {
            Segment::Key(key) => key,
            Segment::Index(_) => "",
        }
    }

    /// The item `index` of the array at this path.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            write!(f, "{parent}.")?;
        }
        match self.segment {
            Segment::Key(key) => f.write_str(key),
            Segment::Index(index) => write!(f, "{index}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_nested_keys_and_indexes_with_dots() {
        let event = FieldPath::root("event");
        let targets = event.key("targets");
        let second = targets.index(1);
        let metadata = second.key("metadata");
        assert_eq!(
            metadata.key("role").to_string(),
            "event.targets.1.metadata.role"
        );
        assert_eq!(
            FieldPath::root("organization_id").to_string(),
            "organization_id"
        );
    }
}
