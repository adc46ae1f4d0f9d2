"""Jobs: settings resolution and the engine: operator commands (`commands`), the job runner (`runner`) with its
stages (`stages`), and what they record about each job (`recorder`)."""
