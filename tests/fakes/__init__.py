"""Local fake servers that speak providers' APIs, for driving the real SDKs in tests."""
