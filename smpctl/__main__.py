from smpctl.cli import main

raise SystemExit(main())
