fn main() -> std::process::ExitCode {
    signoff::cli::main()
}
