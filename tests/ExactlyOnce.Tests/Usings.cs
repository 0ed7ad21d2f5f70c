global using ExactlyOnce.Tests.Infrastructure;
global using Xunit;
