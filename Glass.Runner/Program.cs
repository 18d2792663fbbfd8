using Glass.Runner.Commands;

return Cli.Run(args);
