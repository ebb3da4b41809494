//! One module per route.

pub mod home;
pub mod lab;
pub mod lab_panels;
pub mod learn;
pub mod lesson;
pub mod quiz;
pub mod train;
