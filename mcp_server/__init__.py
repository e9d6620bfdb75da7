"""The MCP server: catalog tools for AI agents, over stdio and streamable HTTP."""
