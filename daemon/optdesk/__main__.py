from optdesk.cli import main

raise SystemExit(main())
