"""Stacks: definitions, images, running containers, hosts and label-based cleanup."""

from harness.stack.definition import StackDefinition, load_definition
from harness.stack.host import ContainerHost, ExecResult, Host, LocalHost
from harness.stack.stack import Stack

__all__ = ["ContainerHost", "ExecResult", "Host", "LocalHost", "Stack", "StackDefinition", "load_definition"]
