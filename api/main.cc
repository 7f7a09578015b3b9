#include "api/cli.h"

int main(int argc, char** argv) { return fundledger::RunCli(argc, argv); }
