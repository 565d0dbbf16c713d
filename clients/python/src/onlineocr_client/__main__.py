"""``python -m onlineocr_client``: the command line tool."""

from onlineocr_client.cli import main

raise SystemExit(main())
