using ExactlyOnce.Client.Commands;

return await ClientApp.RunAsync(args);
