using Bulwark.Simulation;

return SimulatorCommand.Run(args, Console.Out);
