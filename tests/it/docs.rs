//! The documentation a reader navigates: every relative link in README.md and
//! docs/*.md points at a file of the repository and, with `#anchor`, at a
//! heading of that file; the README stays a short first page.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The pages: README.md and every docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// The lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut in_code = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            out.push(line);
        }
    }
    out
}

/// Every `](target)` of a markdown text.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown file's headings.
fn anchors(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    prose(&text)
        .into_iter()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

/// The broken links of one page, as `page: target (why)`.
fn broken_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let mut broken = Vec::new();
    for target in link_targets(&text) {
        if target.starts_with("http://") || target.starts_with("https://") {
            continue;
        }
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (target.as_str(), None),
        };
        let path = if file.is_empty() {
            page.to_path_buf()
        } else {
            dir.join(file)
        };
        if !path.exists() {
            broken.push(format!("{}: {target} (no such file)", page.display()));
            continue;
        }
        if let Some(a) = anchor {
            if !anchors(&path).contains(a) {
                broken.push(format!("{}: {target} (no such heading)", page.display()));
            }
        }
    }
    broken
}

#[test]
fn every_link_into_the_docs_resolves() {
    let pages = pages();
    assert!(pages.len() > 5, "docs/ holds the guides: {pages:?}");
    let broken: Vec<String> = pages.iter().flat_map(|p| broken_links(p)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    // Every guide is reachable from the README.
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let linked: BTreeSet<String> = link_targets(&readme).into_iter().collect();
    for page in &pages[1..] {
        let rel = format!("docs/{}", page.file_name().unwrap().to_string_lossy());
        assert!(
            linked
                .iter()
                .any(|l| l.split('#').next() == Some(rel.as_str())),
            "README.md does not link {rel}"
        );
    }
}

#[test]
fn the_link_check_catches_a_missing_page_and_a_missing_heading() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.md"),
        "# Title\n\n## A heading, with `code`\n",
    )
    .unwrap();
    let page = dir.path().join("a.md");
    std::fs::write(
        &page,
        "[ok](b.md) [ok too](b.md#a-heading-with-code) [gone](c.md) [bad](b.md#nowhere)\n\
         ```\n[in code](ignored.md)\n```\n",
    )
    .unwrap();
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].ends_with("c.md (no such file)"), "{broken:?}");
    assert!(
        broken[1].ends_with("b.md#nowhere (no such heading)"),
        "{broken:?}"
    );
}

#[test]
fn the_readme_is_a_short_first_page_with_the_two_commands() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(readme.len() < 15_000, "README.md is {} bytes", readme.len());
    assert!(readme.contains("\nexamples/quickstart.sh\n"));
    assert!(readme.contains("\ncargo test --workspace\n"));
    assert!(!readme.contains("DESIGN.md"), "the repository stands alone");
}
