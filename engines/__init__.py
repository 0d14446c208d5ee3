"""Everything that runs models or reads the machine. Never imports Textual or Rich."""
