//! Figure directives: defaults, settings, and every kind of error with the
//! exact `path:line:col` an author sees.

use std::collections::BTreeMap;

use crate::figure::*;
use crate::load::load_files;
use crate::model::Block;

const QUIZ: &str = "[[question]]\nid = \"q\"\nprompt = \"P\"\nexplanation = \"E\"\n\n\
[[question.option]]\ntext = \"A\"\ncorrect = true\nfeedback = \"F\"\n\n\
[[question.option]]\ntext = \"B\"\nfeedback = \"F\"\n";

/// Load a lesson whose body (starting on line 5 of `lessons/a.md`) is `body`.
fn load(body: &str) -> Result<Vec<Block>, Vec<String>> {
    let files: BTreeMap<String, String> = [
        ("index.toml", "lessons = [\"a\"]\n".to_string()),
        (
            "a.md",
            format!("+++\ntitle = \"A\"\nsummary = \"S\"\n+++\n{body}"),
        ),
        ("a.quiz.toml", QUIZ.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    match load_files("lessons", &files) {
        Ok(c) => Ok(c.lessons[0].blocks.clone()),
        Err(e) => Err(e.0.iter().map(ToString::to_string).collect()),
    }
}

fn figures(body: &str) -> Vec<(String, Figure)> {
    load(body)
        .unwrap_or_else(|e| panic!("{e:#?}"))
        .into_iter()
        .filter_map(|b| match b {
            Block::Figure { id, figure } => Some((id, figure)),
            _ => None,
        })
        .collect()
}

fn errors(body: &str) -> Vec<String> {
    load(body).expect_err("expected errors")
}

#[test]
fn an_empty_body_gives_every_default_and_the_name_as_id() {
    let body: String = Figure::NAMES
        .iter()
        .map(|n| format!("```figure {n}\n```\n\n"))
        .collect();
    let got = figures(&body);
    assert_eq!(
        got,
        vec![
            (
                "quantize-tensor".into(),
                Figure::QuantizeTensor(QuantizeTensor::default())
            ),
            ("seed-code".into(), Figure::SeedCode(SeedCode::default())),
            (
                "temperature".into(),
                Figure::Temperature(Temperature::default())
            ),
            (
                "activation-ranges".into(),
                Figure::ActivationRanges(ActivationRanges::default())
            ),
            (
                "block-formats".into(),
                Figure::BlockFormats(BlockFormats::default())
            ),
            ("flip-it".into(), Figure::FlipIt(FlipIt::default())),
        ]
    );
    // The defaults the lessons rely on.
    assert_eq!(
        QuantizeTensor::default().values,
        vec![vec![0.5, 0.123, 0.0, 2.0]]
    );
    assert_eq!(QuantizeTensor::default().bits, 8);
    assert_eq!(SeedCode::default().text, "I love learning about AI!");
    assert_eq!(Temperature::default().temperature, 2.0);
    assert_eq!(ActivationRanges::default().bins, 40);
    assert_eq!(
        BlockFormats::default().layer,
        "transformer.layer.0.attention.q_lin"
    );
    assert_eq!(BlockFormats::default().formats.len(), 3);
    assert_eq!(FlipIt::default().text, "not bad at all");
    assert_eq!(FlipIt::default().hints, 5);
}

#[test]
fn settings_are_read_and_the_rest_defaulted() {
    let got = figures(
        "Text.\n\n```figure quantize-tensor\nvalues = [[0.5, 0.123, 0.0, 2.0], [1, -1]]\nrange = [-1.0, 1.55]\nbits = 4\nmapping = \"symmetric\"\n```\n\n\
         ```figure block-formats\nid = \"q4-only\"\nlayer = \"classifier\"\nrow = 3\nformats = [\"q4_k\", \"q4_0\"]\n```\n\n\
         ```figure flip-it\nscheme = \"q4_0\"\nhints = 0\n```\n",
    );
    assert_eq!(
        got,
        vec![
            (
                "quantize-tensor".into(),
                Figure::QuantizeTensor(QuantizeTensor {
                    values: vec![vec![0.5, 0.123, 0.0, 2.0], vec![1.0, -1.0]],
                    range: Some([-1.0, 1.55]),
                    bits: 4,
                    mapping: Mapping::Symmetric,
                    granularity: Granularity::Tensor,
                })
            ),
            (
                "q4-only".into(),
                Figure::BlockFormats(BlockFormats {
                    layer: "classifier".into(),
                    row: 3,
                    formats: vec![BlockFormat::Q4K, BlockFormat::Q4_0],
                })
            ),
            (
                "flip-it".into(),
                Figure::FlipIt(FlipIt {
                    scheme: FlipScheme::Q4_0,
                    hints: 0,
                    ..FlipIt::default()
                })
            ),
        ]
    );
}

#[test]
fn a_figure_is_not_a_code_block() {
    let blocks = load("Before.\n\n```figure seed-code\ntext = \"hi\"\n```\n\nAfter.\n").unwrap();
    assert_eq!(blocks.len(), 3);
    assert!(matches!(&blocks[0], Block::Html { html } if html == "<p>Before.</p>\n"));
    assert!(matches!(&blocks[1], Block::Figure { id, .. } if id == "seed-code"));
    assert!(matches!(&blocks[2], Block::Html { html } if html == "<p>After.</p>\n"));
    assert!(!crate::load::highlight::LANGUAGES.contains(&"figure"));
}

#[test]
fn unknown_figure_is_reported_at_its_name() {
    assert_eq!(
        errors("```figure quantise-tensor\n```\n"),
        ["lessons/a.md:5:11: unknown figure `quantise-tensor`, expected one of: quantize-tensor, seed-code, temperature, activation-ranges, block-formats, flip-it"]
    );
    assert_eq!(
        errors("Text.\n\n~~~ figure\n~~~\n"),
        ["lessons/a.md:7:5: expected a figure name after `figure`, one of: quantize-tensor, seed-code, temperature, activation-ranges, block-formats, flip-it"]
    );
    assert_eq!(
        errors("```figure seed-code large\n```\n"),
        ["lessons/a.md:5:21: expected only a figure name after `figure`, found `large` as well"]
    );
}

#[test]
fn unknown_setting_is_reported_at_its_key() {
    assert_eq!(
        errors("```figure temperature\ntemperature = 3.0\ntemp = 2\n```\n"),
        ["lessons/a.md:7:1: in figure `temperature`: unknown field `temp`, expected one of `id`, `text`, `temperature`"]
    );
}

#[test]
fn bad_toml_is_reported_where_it_breaks() {
    assert_eq!(
        errors("Text.\n\n```figure seed-code\ntext = \"unclosed\n```\n"),
        ["lessons/a.md:8:17: in figure `seed-code`: invalid basic string, expected `\"`"]
    );
}

#[test]
fn bad_values_are_reported_at_the_value() {
    let cases: &[(&str, &str)] = &[
        ("```figure quantize-tensor\nbits = 5\n```\n", "lessons/a.md:6:8: expected `bits` of 2, 3, 4 or 8, found 5"),
        ("```figure quantize-tensor\nbits = 300\n```\n", "lessons/a.md:6:8: in figure `quantize-tensor`: invalid value: integer `300`, expected u8"),
        ("```figure quantize-tensor\nvalues = []\n```\n", "lessons/a.md:6:10: expected `values` to have 1 to 4 rows, found 0"),
        ("```figure quantize-tensor\nvalues = [[1], [1, 2, 3, 4, 5, 6, 7, 8, 9]]\n```\n", "lessons/a.md:6:16: expected a row of 1 to 8 values, found 9"),
        ("```figure quantize-tensor\nvalues = [[1, nan]]\n```\n", "lessons/a.md:6:15: expected a finite number, found NaN"),
        ("```figure quantize-tensor\nrange = [1.0, -1.0]\n```\n", "lessons/a.md:6:9: expected `range = [min, max]` with finite min < max, found [1, -1]"),
        ("```figure quantize-tensor\nmapping = \"asymmetric\"\n```\n", "lessons/a.md:6:11: in figure `quantize-tensor`: unknown variant `asymmetric`, expected `affine` or `symmetric`"),
        ("```figure seed-code\ntext = \"  \"\n```\n", "lessons/a.md:6:8: expected `text` of 1 to 500 characters, found 2"),
        ("```figure temperature\ntemperature = 0.1\n```\n", "lessons/a.md:6:15: expected `temperature` from 0.5 to 10, found 0.1"),
        ("```figure activation-ranges\nlayer = \"transformer.layer.0.q_lin\"\n```\n", "lessons/a.md:6:9: expected a DistilBERT Linear layer (transformer.layer.<n>.attention.{q_lin,k_lin,v_lin,out_lin}, transformer.layer.<n>.ffn.{lin1,lin2}, pre_classifier or classifier), found `transformer.layer.0.q_lin`"),
        ("```figure activation-ranges\nbins = 7\n```\n", "lessons/a.md:6:8: expected `bins` from 8 to 100, found 7"),
        ("```figure block-formats\nformats = []\n```\n", "lessons/a.md:6:11: expected at least one of `formats`: q8_0, q4_0, q4_k"),
        ("```figure block-formats\nformats = [\"q4_0\", \"q8_0\", \"q4_0\"]\n```\n", "lessons/a.md:6:28: duplicate format `q4_0` in `formats`"),
        ("```figure block-formats\nformats = [\"q5_k\"]\n```\n", "lessons/a.md:6:12: in figure `block-formats`: unknown variant `q5_k`, expected one of `q8_0`, `q4_0`, `q4_k`"),
        ("```figure flip-it\nhints = 21\n```\n", "lessons/a.md:6:9: expected `hints` from 0 to 20, found 21"),
        ("```figure flip-it\nid = \"Flip It\"\n```\n", "lessons/a.md:6:6: expected an id of lowercase letters, digits and hyphens, found `Flip It`"),
    ];
    for (body, want) in cases {
        assert_eq!(errors(body), [*want], "{body}");
    }
    let long = format!("```figure seed-code\ntext = \"{}\"\n```\n", "a".repeat(501));
    assert_eq!(
        errors(&long),
        ["lessons/a.md:6:8: expected `text` of 1 to 500 characters, found 501"]
    );
}

#[test]
fn figure_ids_are_unique_in_a_lesson() {
    assert_eq!(
        errors("```figure seed-code\n```\n\n```figure seed-code\n```\n"),
        ["lessons/a.md:8:11: duplicate figure id `seed-code` (first used at 5:11); expected `id = \"…\"` to tell them apart"]
    );
    let got =
        figures("```figure seed-code\n```\n\n```figure seed-code\nid = \"seed-code-2\"\n```\n");
    assert_eq!(got[1].0, "seed-code-2");
}

#[test]
fn offsets_map_into_the_file_inside_a_list() {
    assert_eq!(
        errors("- Try it:\n\n  ```figure flip-it\n  hints = 99\n  ```\n"),
        ["lessons/a.md:8:11: expected `hints` from 0 to 20, found 99"]
    );
}
