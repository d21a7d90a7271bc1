//! `agentctl`: parse arguments, run the command, print (table or `--json`), exit with the
//! codes of ARCHITECTURE.md, "Local API and roles". The logic lives in `hostagent::agentctl`.

use clap::Parser;
use hostagent::cli::agentctl::Args;

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(hostagent::agentctl::run(args));
    std::process::exit(code);
}
