"""What opsbot needs from an OpenAI-compatible server beyond the SDK: which structured-output mode the
server takes (`structured`), and a one-request health check (`check`)."""
