//! Small view pieces the pages share. They render values they are given; none
//! talks to the worker or computes model maths.

pub mod logit_bars;
pub mod metric_card;
pub mod model_panel;
