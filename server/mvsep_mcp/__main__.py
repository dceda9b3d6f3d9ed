from mvsep_mcp.cli import main

raise SystemExit(main())
