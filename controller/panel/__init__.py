"""The operator web panel: server-rendered Jinja2 pages, Vietnamese first, no CDN."""
