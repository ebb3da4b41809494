//! One test per kind of bad content, each asserting the exact message a
//! lesson author sees: `path:line:col: what was expected`.

use std::collections::BTreeMap;

use content::{load_files, Block, Origin};

const INDEX: &str = "lessons = [\"alpha\", \"beta\"]\n";

const LESSON: &str = "+++
title = \"Alpha\"
summary = \"The first one.\"
+++
Some **text** and [the lab](/lab?text=I%20love%20learning%20about%20AI!).

## Code

```python
import torch
```
";

const QUIZ: &str = r#"[[question]]
id = "one"
prompt = "Pick B."
explanation = "B is right."

[[question.option]]
text = "A"
feedback = "Not A."

[[question.option]]
text = "B"
correct = true
feedback = "Yes."
"#;

fn good() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert("index.toml".to_string(), INDEX.to_string());
    for slug in ["alpha", "beta"] {
        files.insert(format!("{slug}.md"), LESSON.to_string());
        files.insert(format!("{slug}.quiz.toml"), QUIZ.to_string());
    }
    files
}

/// Load `good()` with one file replaced (or removed when `text` is None) and
/// return the error lines.
fn errors_with(name: &str, text: Option<&str>) -> Vec<String> {
    let mut files = good();
    match text {
        Some(t) => files.insert(name.to_string(), t.to_string()),
        None => files.remove(name),
    };
    match load_files("lessons", &files) {
        Ok(_) => panic!("expected {name} to be rejected"),
        Err(errors) => errors.to_string().lines().map(str::to_string).collect(),
    }
}

fn quiz_with_option_block(options: &str) -> String {
    format!("[[question]]\nid = \"one\"\nprompt = \"P\"\nexplanation = \"E\"\n{options}")
}

#[test]
fn good_content_loads_and_renders() {
    let content = load_files("lessons", &good()).unwrap();
    assert_eq!(content.lessons.len(), 2);
    let a = &content.lessons[0];
    assert_eq!(
        (a.slug.as_str(), a.title.as_str(), a.summary.as_str()),
        ("alpha", "Alpha", "The first one.")
    );
    assert_eq!(a.blocks.len(), 2);
    assert!(
        matches!(&a.blocks[1], Block::Code(c) if c.lang == "python" && c.code == "import torch\n")
    );
    let q = &a.quiz.questions[0];
    assert_eq!(
        (q.answer, q.origin, q.choices.len()),
        (Some(1), Origin::Own, 2)
    );
    assert_eq!(q.choices[0].html, "A");
    assert_eq!(q.choices[0].feedback_html, "<p>Not A.</p>\n");
    assert_eq!(a.quiz.fingerprint.len(), 16);
}

#[test]
fn missing_index() {
    assert_eq!(
        errors_with("index.toml", None),
        ["lessons/index.toml: missing: expected the ordering index, e.g. lessons = [\"why-optimise\"]"]
    );
}

#[test]
fn index_is_not_toml() {
    assert_eq!(
        errors_with("index.toml", Some("lessons = [\"alpha\", \"beta\"\n")),
        ["lessons/index.toml:1:27: unclosed array, expected `]`"]
    );
}

#[test]
fn index_unknown_key() {
    assert_eq!(
        errors_with(
            "index.toml",
            Some("lessons = [\"alpha\", \"beta\"]\norder = 1\n")
        ),
        ["lessons/index.toml:2:1: unknown field `order`, expected `lessons`"]
    );
}

#[test]
fn index_duplicate_slug() {
    assert_eq!(
        errors_with(
            "index.toml",
            Some("lessons = [\n  \"alpha\",\n  \"beta\",\n  \"alpha\",\n]\n")
        ),
        ["lessons/index.toml:4:3: duplicate slug `alpha` (first listed at 2:3)"]
    );
}

#[test]
fn index_bad_slug() {
    assert_eq!(
        errors_with("index.toml", Some("lessons = [\"alpha\", \"beta\", \"Gamma Ray\"]\n")),
        ["lessons/index.toml:1:29: expected a slug of lowercase letters, digits and hyphens, found `Gamma Ray`"]
    );
}

#[test]
fn index_lists_a_lesson_without_files() {
    assert_eq!(
        errors_with(
            "index.toml",
            Some("lessons = [\"alpha\", \"beta\", \"gamma\"]\n")
        ),
        [
            "lessons/index.toml:1:29: expected a file lessons/gamma.md for lesson `gamma`",
            "lessons/index.toml:1:29: expected a file lessons/gamma.quiz.toml for lesson `gamma`",
        ]
    );
}

#[test]
fn lesson_without_quiz() {
    assert_eq!(
        errors_with("beta.quiz.toml", None),
        ["lessons/index.toml:1:21: expected a file lessons/beta.quiz.toml for lesson `beta`"]
    );
}

#[test]
fn file_not_in_index() {
    assert_eq!(
        errors_with("index.toml", Some("lessons = [\"alpha\"]\n")),
        [
            "lessons/beta.md:1:1: lesson `beta` is not listed in lessons/index.toml; expected every lesson and quiz in the index",
            "lessons/beta.quiz.toml:1:1: lesson `beta` is not listed in lessons/index.toml; expected every lesson and quiz in the index",
        ]
    );
}

#[test]
fn stray_toml_file() {
    assert_eq!(
        errors_with("settings.toml", Some("x = 1\n")),
        ["lessons/settings.toml:1:1: expected `index.toml`, `<slug>.md` or `<slug>.quiz.toml`, found `settings.toml`"]
    );
}

#[test]
fn lesson_without_front_matter() {
    assert_eq!(
        errors_with("beta.md", Some("# Beta\n\nText.\n")),
        ["lessons/beta.md:1:1: expected front matter: a first line `+++`, TOML with title and summary, then `+++`"]
    );
}

#[test]
fn front_matter_not_closed() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\"\nsummary = \"S\"\n\nText.\n")
        ),
        ["lessons/beta.md:1:1: expected a closing `+++` line after the front matter"]
    );
}

#[test]
fn front_matter_unknown_key_is_placed_in_the_file() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\"\nsumary = \"S\"\n+++\nText.\n")
        ),
        ["lessons/beta.md:3:1: unknown field `sumary`, expected `title` or `summary`"]
    );
}

#[test]
fn front_matter_missing_summary() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\n+++\nText.\n")),
        ["lessons/beta.md:2:1: missing field `summary`"]
    );
}

#[test]
fn front_matter_bad_toml() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\nsummary = \"S\"\n+++\nText.\n")
        ),
        ["lessons/beta.md:2:11: invalid basic string, expected `\"`"]
    );
}

#[test]
fn empty_title() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"  \"\nsummary = \"S\"\n+++\nText.\n")
        ),
        ["lessons/beta.md:2:9: expected a non-empty title"]
    );
}

#[test]
fn empty_body() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\n\n")
        ),
        ["lessons/beta.md:5:1: expected a lesson body after the front matter"]
    );
}

#[test]
fn level_one_heading_in_body() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\nIntro.\n\n# Big\n")),
        ["lessons/beta.md:7:1: expected headings of level 2 (##) or deeper; the title is the page's only level-1 heading"]
    );
}

#[test]
fn image_in_body() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\nSee ![a chart](chart.png).\n")),
        ["lessons/beta.md:5:5: expected no images (the site is offline and text-first), found `chart.png`"]
    );
}

#[test]
fn link_to_unknown_route() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\nGo [here](/labs).\n")),
        ["lessons/beta.md:5:4: expected a link to /, /learn, /learn/<slug>, /quiz/<slug>, /lab?text=… or /train?seed=…, found `/labs`"]
    );
}

#[test]
fn link_to_missing_lesson() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\nNext: [gamma](/learn/gamma).\n")
        ),
        ["lessons/beta.md:5:7: link `/learn/gamma` names no lesson: `gamma` is not in the index"]
    );
}

#[test]
fn lab_link_with_unknown_parameter() {
    assert_eq!(
        errors_with(
            "beta.md",
            Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\n[lab](/lab?sentence=hi)\n")
        ),
        ["lessons/beta.md:5:1: unknown lab parameter `sentence`, expected one of: text"]
    );
}

#[test]
fn relative_or_script_link() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\n[x](javascript:alert(1)) [y](http://example.com)\n")),
        [
            "lessons/beta.md:5:1: expected a site link starting with / or an https:// link, found `javascript:alert(1)`",
            "lessons/beta.md:5:26: expected a site link starting with / or an https:// link, found `http://example.com`",
        ]
    );
}

#[test]
fn unknown_code_language() {
    assert_eq!(
        errors_with("beta.md", Some("+++\ntitle = \"B\"\nsummary = \"S\"\n+++\nText.\n\n```pyhton\nx = 1\n```\n")),
        ["lessons/beta.md:7:1: unknown code language `pyhton`, expected one of: python, rust, toml, json, bash, console, text"]
    );
}

#[test]
fn raw_html_in_a_lesson_is_escaped() {
    let mut files = good();
    files.insert("beta.md".into(), "+++\ntitle = \"B\"\nsummary = \"S\"\n+++\n<script>alert(1)</script>\n\nA <img src=x onerror=alert(1)> tag.\n".into());
    let content = load_files("lessons", &files).unwrap();
    let Block::Html { html } = &content.lessons[1].blocks[0] else {
        panic!("expected html")
    };
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("A &lt;img src=x onerror=alert(1)&gt; tag."),
        "{html}"
    );
}

#[test]
fn quiz_is_not_toml() {
    assert_eq!(
        errors_with("beta.quiz.toml", Some("[[question]\nid = \"x\"\n")),
        ["lessons/beta.quiz.toml:1:12: unclosed array table, expected `]`"]
    );
}

#[test]
fn quiz_unknown_field() {
    let quiz = QUIZ.replace(
        "explanation = \"B is right.\"",
        "explanation = \"B is right.\"\nhint = \"B\"",
    );
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:5:1: unknown field `hint`, expected one of `id`, `origin`, `prompt`, `explanation`, `steps`, `quick_check`, `lab`, `from_run`, `option`"]
    );
}

#[test]
fn quiz_unknown_origin() {
    let quiz = QUIZ.replace("id = \"one\"", "id = \"one\"\norigin = \"book\"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:3:10: unknown variant `book`, expected `seed` or `own`"]
    );
}

#[test]
fn quiz_duplicate_key() {
    let quiz = QUIZ.replace("correct = true\n", "correct = true\ncorrect = false\n");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:13:1: duplicate key; expected each key once per table"]
    );
}

#[test]
fn quiz_without_questions() {
    assert_eq!(
        errors_with("beta.quiz.toml", Some("question = []\n")),
        ["lessons/beta.quiz.toml:1:1: expected at least one [[question]]"]
    );
}

#[test]
fn option_without_feedback() {
    let quiz = QUIZ.replace("feedback = \"Not A.\"\n", "");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:6:1: missing field `feedback`"]
    );
}

#[test]
fn no_correct_option() {
    let quiz = QUIZ.replace("correct = true\n", "");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:1:1: expected exactly one option with correct = true in question `one`, found 0"]
    );
}

#[test]
fn two_correct_options() {
    let quiz = QUIZ.replace("text = \"A\"\n", "text = \"A\"\ncorrect = true\n");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:11:1: expected exactly one option with correct = true in question `one`, found 2"]
    );
}

#[test]
fn too_few_options() {
    let quiz = quiz_with_option_block(
        "[[question.option]]\ntext = \"A\"\ncorrect = true\nfeedback = \"F\"\n",
    );
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:1:1: expected 2 to 6 options in question `one`, found 1"]
    );
}

#[test]
fn too_many_options() {
    let options: String = (0..7)
        .map(|i| {
            format!(
                "[[question.option]]\ntext = \"{i}\"\ncorrect = {}\nfeedback = \"F\"\n",
                i == 0
            )
        })
        .collect();
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz_with_option_block(&options))),
        ["lessons/beta.quiz.toml:1:1: expected 2 to 6 options in question `one`, found 7"]
    );
}

#[test]
fn empty_explanation() {
    let quiz = QUIZ.replace("explanation = \"B is right.\"", "explanation = \"\"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:4:15: expected a non-empty explanation"]
    );
}

#[test]
fn empty_feedback() {
    let quiz = QUIZ.replace("feedback = \"Yes.\"", "feedback = \" \"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:13:12: expected a non-empty feedback"]
    );
}

#[test]
fn duplicate_option_text() {
    let quiz = QUIZ.replace("text = \"B\"", "text = \"A\"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:11:8: duplicate option text in question `one`"]
    );
}

#[test]
fn duplicate_question_id() {
    let quiz = format!("{QUIZ}\n{QUIZ}");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:16:6: duplicate question id `one` (first used at 2:6)"]
    );
}

#[test]
fn bad_question_id() {
    let quiz = QUIZ.replace("id = \"one\"", "id = \"Question 1\"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:2:6: expected an id of lowercase letters, digits and hyphens, found `Question 1`"]
    );
}

#[test]
fn seed_question_needs_steps_and_quick_check() {
    let quiz = QUIZ.replace(
        "id = \"one\"",
        "id = \"one\"\norigin = \"seed\"\nsteps = [\"Think.\"]",
    );
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:1:1: expected steps and a quick_check for seed question `one`"]
    );
}

#[test]
fn lab_field_must_be_a_lab_link() {
    let quiz = QUIZ.replace("id = \"one\"", "id = \"one\"\nlab = \"/learn/alpha\"");
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:3:7: expected a /lab link in `lab`, found `/learn/alpha`"]
    );
}

#[test]
fn bad_link_in_quiz_text_points_at_the_string() {
    let quiz = QUIZ.replace(
        "explanation = \"B is right.\"",
        "explanation = \"See [this](/quiz/nope).\"",
    );
    assert_eq!(
        errors_with("beta.quiz.toml", Some(&quiz)),
        ["lessons/beta.quiz.toml:4:15: link `/quiz/nope` names no lesson: `nope` is not in the index"]
    );
}

#[test]
fn problems_in_several_files_are_all_reported_in_order() {
    let mut files = good();
    files.insert(
        "beta.md".into(),
        "+++\ntitle = \"\"\nsummary = \"S\"\n+++\n# Big\n".into(),
    );
    files.insert(
        "alpha.quiz.toml".into(),
        QUIZ.replace("correct = true\n", ""),
    );
    let errors = load_files("lessons", &files).unwrap_err().to_string();
    assert_eq!(
        errors,
        "lessons/alpha.quiz.toml:1:1: expected exactly one option with correct = true in question `one`, found 0\n\
         lessons/beta.md:2:9: expected a non-empty title\n\
         lessons/beta.md:5:1: expected headings of level 2 (##) or deeper; the title is the page's only level-1 heading"
    );
}

#[test]
fn unreadable_directory_names_its_path() {
    let err = content::load_dir(std::path::Path::new("no/such/dir"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("no/such/dir: cannot read directory ("),
        "{err}"
    );
}

#[test]
fn fixture_directory_with_an_error_fails_with_file_line_col() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let err = content::load_dir(&dir).unwrap_err().to_string();
    let expected = format!(
        "{}/intro.quiz.toml:11:1: expected exactly one option with correct = true in question `second`, found 2",
        dir.display()
    );
    assert_eq!(err, expected);
}
