"""The notebook front: the ``%%llmcost`` magic, its options and ``%llmcost`` commands, display, widgets."""
