global using ExactlyOnce.Tests.Infrastructure;
global using Xunit;
global using ExactlyOnce.Hosting.Processes;
