from gureum.cli import main

raise SystemExit(main())
