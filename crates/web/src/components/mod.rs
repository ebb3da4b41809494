//! Small view pieces the pages share. They render values they are given; none
//! talks to the worker or computes model maths.

pub mod code_block;
pub mod lesson_path;
pub mod logit_bars;
pub mod metric_card;
pub mod model_panel;
pub mod progress_notice;
pub mod quiz_question;
