#include "ork/cli/Cli.h"

int main(int argc, char** argv) { return ork::cli::run(argc, argv); }
