from semcat.cli import main

main()
