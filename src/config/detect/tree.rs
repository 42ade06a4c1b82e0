//! The repository as detection sees it: its paths, the first bytes of a file, and whether a
//! program is installed (a closure, so that tests decide what is installed).

/// What detection may look at.
pub struct Tree<'a> {
    paths: &'a [String],
    read_head: &'a dyn Fn(&str) -> Option<Vec<u8>>,
    installed: &'a dyn Fn(&str) -> bool,
}

impl<'a> Tree<'a> {
    /// A tree of `paths` (repository-relative, `/`-separated); `read_head` returns a file's
    /// first bytes, `installed` whether a program can be run.
    pub fn new(
        paths: &'a [String],
        read_head: &'a dyn Fn(&str) -> Option<Vec<u8>>,
        installed: &'a dyn Fn(&str) -> bool,
    ) -> Self {
        Self {
            paths,
            read_head,
            installed,
        }
    }

    /// Every path.
    pub fn paths(&self) -> &[String] {
        self.paths
    }

    /// Whether the tree holds exactly this path.
    pub fn has(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }

    /// The first of `candidates` the tree holds.
    pub fn first_of<'c>(&self, candidates: &[&'c str]) -> Option<&'c str> {
        candidates.iter().copied().find(|c| self.has(c))
    }

    /// Whether some path satisfies `pred`.
    pub fn any(&self, pred: impl Fn(&str) -> bool) -> bool {
        self.paths.iter().any(|p| pred(p))
    }

    /// A file's first bytes.
    pub fn head(&self, path: &str) -> Option<Vec<u8>> {
        (self.read_head)(path)
    }

    /// A file's first bytes as text (lossy), or "" when it cannot be read.
    pub fn text(&self, path: &str) -> String {
        self.head(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// A JSON file's value, or null when it is missing or no JSON.
    pub fn json(&self, path: &str) -> serde_json::Value {
        self.head(path)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// Whether `program` is installed.
    pub fn installed(&self, program: &str) -> bool {
        (self.installed)(program)
    }
}
