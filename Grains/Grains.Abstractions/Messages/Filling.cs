namespace ExactlyOnce.Grains.Messages;

/// <summary>Pierogi fillings the shop sells.</summary>
public enum Filling
{
    Meat = 1,
    Mushrooms = 2,
    QuarkAndPotatoes = 3,
    SwissCheese = 4,
    Strawberry = 5,
}

/// <summary>Prices of the fillings.</summary>
public static class Menu
{
    /// <summary>Price of one line of the filling; throws for a value that is not on the menu.</summary>
    public static decimal PriceOf(Filling filling) => filling switch
    {
        Filling.Meat => 50m,
        Filling.Mushrooms => 45m,
        Filling.QuarkAndPotatoes => 40m,
        Filling.SwissCheese => 55m,
        Filling.Strawberry => 35m,
        _ => throw new ArgumentOutOfRangeException(nameof(filling), filling, "not a filling on the menu"),
    };

    /// <summary>True for a defined filling.</summary>
    public static bool IsOnMenu(Filling filling) => Enum.IsDefined(filling);
}
