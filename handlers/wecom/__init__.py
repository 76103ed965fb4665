"""WeCom (企业微信) self-built app: the callback's crypto and protocol."""
