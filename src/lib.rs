//! `auditor`: audits every commit an autonomous coding agent makes.
#![allow(dead_code)]
pub mod config;
pub mod finding;
pub mod parsers;
pub mod runner;
pub mod secrets;
pub mod store;
