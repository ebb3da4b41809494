//! The real `lessons/` directory: it loads without errors and holds what the
//! course promises — the seven lessons in order, all five seed practice
//! questions with the seed's answers, and enough questions of our own.

use std::path::PathBuf;

use content::{Block, Content, Origin, Route};

fn lessons() -> Content {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lessons");
    content::load_dir(&dir).unwrap_or_else(|e| panic!("lessons/ must load:\n{e}"))
}

#[test]
fn lessons_load_in_index_order() {
    let slugs: Vec<String> = lessons().lessons.iter().map(|l| l.slug.clone()).collect();
    assert_eq!(
        slugs,
        [
            "why-optimise",
            "distillation",
            "quantization",
            "hands-on",
            "lab-formats",
            "lab-measuring",
            "combining"
        ]
    );
}

#[test]
fn all_five_seed_questions_keep_the_seeds_answers() {
    let content = lessons();
    // (lesson, question id, the seed's answer letter, a phrase of the seed's answer)
    let seed = [
        ("distillation", "goal", 'D', "mimic a larger model"),
        (
            "hands-on",
            "quantize-syntax",
            'B',
            "quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)",
        ),
        ("distillation", "identical-outputs", 'A', "0.0"),
        (
            "quantization",
            "attribute-error",
            'A',
            "does not have a built-in",
        ),
        (
            "combining",
            "mobile",
            'C',
            "distillation to train a smaller model, then apply quantization",
        ),
    ];
    for (slug, id, letter, phrase) in seed {
        let lesson = content.lesson(slug).unwrap();
        let q = lesson
            .quiz
            .questions
            .iter()
            .find(|q| q.id == id)
            .unwrap_or_else(|| panic!("{slug}/{id}"));
        assert_eq!(q.origin, Origin::Seed, "{id}");
        assert_eq!(q.choices.len(), 4, "{id}: four options");
        assert_eq!(
            q.answer,
            Some((letter as u8 - b'A') as usize),
            "{id}: the seed's option {letter}"
        );
        assert!(
            q.choices[q.answer.unwrap()].html.contains(phrase),
            "{id}: {}",
            q.choices[q.answer.unwrap()].html
        );
        assert!(
            !q.steps_html.is_empty() && q.quick_check_html.is_some(),
            "{id}: steps and quick check"
        );
        assert!(
            q.choices.iter().all(|c| !c.feedback_html.is_empty()),
            "{id}: feedback per option"
        );
    }
    let seeds = content
        .lessons
        .iter()
        .flat_map(|l| &l.quiz.questions)
        .filter(|q| q.origin == Origin::Seed);
    assert_eq!(seeds.count(), 5);
}

#[test]
fn every_lesson_has_at_least_two_own_questions_and_some_use_the_lab() {
    let content = lessons();
    for l in &content.lessons {
        let own = l
            .quiz
            .questions
            .iter()
            .filter(|q| q.origin == Origin::Own)
            .count();
        assert!(own >= 2, "{} has {own} own questions", l.slug);
    }
    let lab: Vec<&str> = content
        .lessons
        .iter()
        .flat_map(|l| &l.quiz.questions)
        .filter_map(|q| q.lab.as_deref())
        .collect();
    assert!(lab.len() >= 3, "{lab:?}");
    for href in lab {
        assert_eq!(
            Route::parse(href),
            Ok(Route::lab("I love learning about AI!"))
        );
    }
}

#[test]
fn the_hands_on_lesson_links_to_the_lab_with_the_seed_sentence() {
    let content = lessons();
    let html: String = content
        .lesson("hands-on")
        .unwrap()
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Html { html } => Some(html.as_str()),
            Block::Code(_) | Block::Figure { .. } => None,
        })
        .collect();
    assert!(
        html.contains("<a href=\"/lab?text=I%20love%20learning%20about%20AI!\">run it here"),
        "{html}"
    );
}

#[test]
fn every_lesson_has_highlighted_code() {
    for l in &lessons().lessons {
        let code: Vec<_> = l
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Code(c) => Some(c),
                Block::Html { .. } | Block::Figure { .. } => None,
            })
            .collect();
        assert!(!code.is_empty(), "{} has no code block", l.slug);
        assert!(
            code.iter().all(|c| !c.lang.is_empty()),
            "{}: every fence names its language",
            l.slug
        );
    }
}

#[test]
fn every_measurement_is_taken_on_a_page_that_exists() {
    let content = lessons();
    for &m in content::Measurement::ALL {
        let href = m.measure_at();
        match Route::parse(&href) {
            Ok(Route::Lab { .. }) => {}
            Ok(Route::Lesson(slug)) => {
                let lesson = content.lesson(&slug).unwrap_or_else(|| panic!("{href}"));
                // The link lands on the figure that measures it.
                let anchor = href.split_once('#').map(|(_, a)| a).unwrap_or_default();
                let figures: Vec<String> = lesson
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        content::Block::Figure { id, .. } => Some(content::figure::anchor(id)),
                        _ => None,
                    })
                    .collect();
                assert!(
                    figures.iter().any(|f| f == anchor),
                    "{m:?}: {href} names no figure of {slug} (it has {figures:?})"
                );
            }
            other => panic!("{m:?}: {href} parses as {other:?}"),
        }
    }
}
