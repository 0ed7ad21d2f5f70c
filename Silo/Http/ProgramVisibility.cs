// The ASP.NET Core shared framework (Silo/Http) makes a top-level Program public unless it is
// declared with an accessibility of its own; public, it would clash with the Program of the
// projects that reference the silo (bench).
internal partial class Program;
