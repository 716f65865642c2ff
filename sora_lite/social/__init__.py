"""Discovery, sharing and collaboration (issue 17): search and browse pages, the Inspiration feed, per-clip
visibility and share links, shared storyboard projects. All state lives in the database (`sora_lite.store`)."""
