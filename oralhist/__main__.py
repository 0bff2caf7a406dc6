from oralhist.cli import main

main()
