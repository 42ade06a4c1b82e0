//! Following a line through later commits: where a line of a file at one commit is at
//! another, by the hunks of the file's diff between them (as `git blame` would place it).

use git2::{DiffOptions, Oid};

use super::repo::Repo;

/// Where `line` (1-based) of `path` at `from` is at `to`: shifted by the lines later commits
/// added or removed above it; `None` when the line itself was changed or removed, or the
/// file is not at `to`.
pub fn follow_line(repo: &Repo, from: Oid, to: Oid, path: &str, line: u32) -> Option<u32> {
    if from == to {
        return Some(line);
    }
    let tree = |oid: Oid| repo.git.find_commit(oid).ok()?.tree().ok();
    let (old, new) = (tree(from)?, tree(to)?);
    new.get_path(std::path::Path::new(path)).ok()?;
    let mut options = DiffOptions::new();
    options
        .pathspec(path)
        .disable_pathspec_match(true)
        .context_lines(0);
    let diff = repo
        .git
        .diff_tree_to_tree(Some(&old), Some(&new), Some(&mut options))
        .ok()?;
    let mut hunks: Vec<(u32, u32, u32, u32)> = Vec::new();
    diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |_, h| {
            hunks.push((h.old_start(), h.old_lines(), h.new_start(), h.new_lines()));
            true
        }),
        None,
    )
    .ok()?;
    shift(line, &hunks)
}

/// `line` moved by `hunks` (old start, old count, new start, new count; zero context). A
/// side with no lines names the line before the hunk, as unified diffs do.
fn shift(line: u32, hunks: &[(u32, u32, u32, u32)]) -> Option<u32> {
    let first = |start: u32, count: u32| i64::from(if count == 0 { start + 1 } else { start });
    let mut delta: i64 = 0;
    for &(old_start, old_lines, new_start, new_lines) in hunks {
        let old_first = first(old_start, old_lines);
        let line = i64::from(line);
        if line < old_first {
            break;
        }
        if line < old_first + i64::from(old_lines) {
            return None;
        }
        delta =
            first(new_start, new_lines) + i64::from(new_lines) - old_first - i64::from(old_lines);
    }
    u32::try_from(i64::from(line) + delta).ok()
}

#[cfg(test)]
mod tests {
    use super::shift;

    #[test]
    fn a_line_moves_with_what_is_added_and_removed_above_it_and_is_lost_when_changed() {
        // Nothing changed above line 10.
        assert_eq!(shift(10, &[(20, 1, 20, 3)]), Some(10));
        // Three lines inserted after line 2.
        assert_eq!(shift(10, &[(2, 0, 3, 3)]), Some(13));
        // Lines 1-2 removed.
        assert_eq!(shift(10, &[(1, 2, 0, 0)]), Some(8));
        // Line 4 replaced by two, then three inserted after line 6.
        assert_eq!(shift(10, &[(4, 1, 4, 2), (6, 0, 8, 3)]), Some(14));
        // The line itself was rewritten.
        assert_eq!(shift(10, &[(9, 3, 9, 3)]), None);
        // An insertion right after it does not move it.
        assert_eq!(shift(10, &[(10, 0, 11, 2)]), Some(10));
    }
}
