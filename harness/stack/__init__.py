"""Stacks: definitions, images, running containers, hosts and label-based cleanup."""
