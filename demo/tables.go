package demo

// Immutable tables the generator draws from. They are the only package-level
// values: nothing here is written after initialisation.

var firstNames = [...]string{
	"Amelia", "Oliver", "Olivia", "George", "Isla", "Harry", "Ava", "Noah",
	"Emily", "Jack", "Sophia", "Leo", "Grace", "Arthur", "Mia", "Muhammad",
	"Poppy", "Oscar", "Ella", "Charlie", "Freya", "Thomas", "Lily", "James",
	"Ivy", "William", "Florence", "Henry", "Evie", "Alfie", "Rosie", "Archie",
	"Sienna", "Joshua", "Willow", "Jacob", "Phoebe", "Theo", "Ruby", "Lucas",
	"Priya", "Rohan", "Aisha", "Kwame", "Niamh", "Callum", "Eilidh", "Rhys",
	"Megan", "Tomasz", "Zofia", "Hannah", "Samuel", "Chloe", "Daniel", "Jessica",
}

var surnames = [...]string{
	"Jones", "Smith", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
	"Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker",
	"White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke",
	"Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
	"Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan",
	"Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
	"Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
	"Khan", "Begum", "Singh", "Okafor", "Nowak", "MacDonald", "Campbell", "Murphy",
}

// business is a demo business customer.
type business struct {
	name, legalName, legal, username string
	// sector picks the shape of its trade (see businessTrades).
	sector int
}

var businesses = [...]business{
	{"Harbour Lane Bakery", "Harbour Lane Bakery Ltd", "UK.OBIE.PrivateLimitedCompany", "harbourlane.bakery", 0},
	{"Pennine Joinery", "Pennine Joinery Ltd", "UK.OBIE.PrivateLimitedCompany", "pennine.joinery", 1},
	{"Greenleaf Gardens", "Greenleaf Gardens LLP", "UK.OBIE.LimitedLiabilityPartnership", "greenleaf.gardens", 1},
	{"Riverside Books", "A & M Patel trading as Riverside Books", "UK.OBIE.GeneralPartnership", "riverside.books", 0},
	{"Northgate Dental", "Northgate Dental Practice Ltd", "UK.OBIE.PrivateLimitedCompany", "northgate.dental", 2},
	{"Kettle & Crumb Cafe", "Kettle and Crumb CIC", "UK.OBIE.CIC", "kettle.crumb", 0},
	{"Brightside Food Bank", "Brightside Community Food Bank", "UK.OBIE.Charity", "brightside.foodbank", 2},
	{"Ellis Electrical", "Samuel Ellis trading as Ellis Electrical", "UK.OBIE.Sole", "ellis.electrical", 1},
}

// town is a UK post town with a plausible postcode area and a fictional
// (Ofcom drama range) landline prefix.
type town struct {
	name, county, postArea, phone string
}

var towns = [...]town{
	{"London", "Greater London", "SE", "+44-2079460"},
	{"London", "Greater London", "N", "+44-2079460"},
	{"Manchester", "Greater Manchester", "M", "+44-1614960"},
	{"Birmingham", "West Midlands", "B", "+44-1214960"},
	{"Leeds", "West Yorkshire", "LS", "+44-1134960"},
	{"Sheffield", "South Yorkshire", "S", "+44-1144960"},
	{"Bristol", "Bristol", "BS", "+44-1174960"},
	{"Nottingham", "Nottinghamshire", "NG", "+44-1159460"},
	{"Leicester", "Leicestershire", "LE", "+44-1164960"},
	{"Newcastle upon Tyne", "Tyne and Wear", "NE", "+44-1914980"},
	{"Cardiff", "South Glamorgan", "CF", "+44-2920180"},
	{"Edinburgh", "Midlothian", "EH", "+44-1314960"},
	{"Glasgow", "Lanarkshire", "G", "+44-1414960"},
	{"Liverpool", "Merseyside", "L", "+44-1514960"},
	{"Brighton", "East Sussex", "BN", "+44-1632960"},
	{"York", "North Yorkshire", "YO", "+44-1904960"},
}

var streets = [...]string{
	"High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue",
	"Green Lane", "Mill Road", "Queen Street", "The Crescent", "Kings Road",
	"Manor Close", "Windsor Drive", "Chestnut Grove", "Albert Terrace", "Orchard Way",
	"Riverside Walk", "Elm Grove", "Meadow View", "Castle Street", "New Road",
}

// Spending categories, sent to TPPs as SupplementaryData.
const (
	catGroceries     = "Groceries"
	catTransport     = "Transport"
	catEatingOut     = "Eating out"
	catBills         = "Bills"
	catShopping      = "Shopping"
	catEntertainment = "Entertainment"
	catTravel        = "Travel"
	catHealth        = "Health"
	catCash          = "Cash"
	catIncome        = "Income"
	catTransfers     = "Transfers"
)

// merchant is a card acceptor with its ISO 18245 merchant category code and a
// typical spend, in pence, drawn uniformly from [lo, hi].
type merchant struct {
	name, mcc, category string
	lo, hi              int64
	weight              int  // relative frequency among a customer's purchases
	online              bool // card-not-present: AuthorisationType None
}

var merchants = [...]merchant{
	{"Tesco", "5411", catGroceries, 350, 9500, 14, false},
	{"Sainsbury's", "5411", catGroceries, 400, 8800, 10, false},
	{"Asda", "5411", catGroceries, 500, 9000, 6, false},
	{"Aldi", "5411", catGroceries, 400, 6500, 7, false},
	{"Lidl", "5411", catGroceries, 350, 6000, 6, false},
	{"Waitrose", "5411", catGroceries, 600, 9500, 3, false},
	{"Co-op Food", "5411", catGroceries, 200, 2500, 8, false},
	{"M&S Simply Food", "5411", catGroceries, 400, 3500, 4, false},
	{"Ocado", "5411", catGroceries, 4000, 12000, 2, true},
	{"Transport for London", "4111", catTransport, 175, 880, 6, false},
	{"Trainline", "4112", catTransport, 1200, 9800, 2, true},
	{"Uber", "4121", catTransport, 650, 3200, 3, true},
	{"Shell", "5541", catTransport, 2500, 8500, 3, false},
	{"BP", "5541", catTransport, 2500, 8500, 2, false},
	{"Pret A Manger", "5814", catEatingOut, 295, 1150, 6, false},
	{"Costa Coffee", "5814", catEatingOut, 260, 890, 7, false},
	{"Greggs", "5814", catEatingOut, 110, 720, 6, false},
	{"Nando's", "5812", catEatingOut, 1400, 4800, 2, false},
	{"Wagamama", "5812", catEatingOut, 1500, 5200, 2, false},
	{"Deliveroo", "5814", catEatingOut, 1500, 4200, 3, true},
	{"Just Eat", "5814", catEatingOut, 1400, 3800, 2, true},
	{"JD Wetherspoon", "5813", catEatingOut, 450, 3500, 3, false},
	{"Amazon.co.uk", "5999", catShopping, 499, 6500, 8, true},
	{"Argos", "5311", catShopping, 899, 12000, 2, false},
	{"John Lewis", "5311", catShopping, 1500, 18000, 1, false},
	{"Boots", "5912", catHealth, 250, 3500, 4, false},
	{"Superdrug", "5912", catHealth, 200, 2500, 2, false},
	{"Primark", "5651", catShopping, 500, 4500, 2, false},
	{"Next", "5651", catShopping, 1500, 9000, 2, false},
	{"Currys", "5732", catShopping, 1999, 39900, 1, false},
	{"IKEA", "5712", catShopping, 1200, 25000, 1, false},
	{"B&Q", "5200", catShopping, 600, 12000, 1, false},
	{"Waterstones", "5942", catShopping, 799, 3500, 1, false},
	{"Odeon Cinemas", "7832", catEntertainment, 850, 3200, 1, false},
	{"Vue Cinemas", "7832", catEntertainment, 800, 2800, 1, false},
	{"Ticketmaster", "7922", catEntertainment, 2500, 15000, 1, true},
	{"Steam", "5816", catEntertainment, 499, 5999, 1, true},
	{"Premier Inn", "7011", catTravel, 5500, 22000, 1, true},
	{"easyJet", "4511", catTravel, 3500, 28000, 1, true},
	{"British Airways", "4511", catTravel, 9000, 65000, 1, true},
}

// subscription is a monthly card charge on a fixed day (continuous payment
// authority, not a direct debit).
type subscription struct {
	name, mcc, category string
	amount              int64
}

var subscriptions = [...]subscription{
	{"Netflix.com", "4899", catEntertainment, 1099},
	{"Spotify", "5815", catEntertainment, 1199},
	{"Disney Plus", "4899", catEntertainment, 799},
	{"Amazon Prime", "5968", catShopping, 899},
	{"Apple.com/bill", "5735", catEntertainment, 299},
}

// biller is a direct debit originator: the usual monthly household bills.
type biller struct {
	name, ref string // ref prefixes the mandate reference
	lo, hi    int64  // monthly amount range in pence
	months    int    // 1 monthly, 3 quarterly, 12 annual
	variable  bool   // the amount changes from one collection to the next
}

// billers are grouped: one of each group is picked per household.
var billerGroups = [...][]biller{
	{{"Octopus Energy", "OCTO", 6500, 16000, 1, true}, {"British Gas", "BGAS", 7000, 17500, 1, true}, {"EDF Energy", "EDFE", 6500, 15500, 1, true}, {"E.ON Next", "EONN", 6800, 16500, 1, true}},
	{{"Thames Water", "THMW", 3200, 5200, 1, false}, {"United Utilities", "UUWS", 3000, 4800, 1, false}, {"Severn Trent", "SVTW", 2900, 4600, 1, false}, {"Yorkshire Water", "YKWT", 7500, 13500, 3, false}},
	{{"City Council Tax", "CTAX", 12000, 22000, 1, false}},
	{{"BT Broadband", "BTBB", 2800, 5500, 1, false}, {"Virgin Media", "VMED", 3500, 7500, 1, false}, {"Sky Digital", "SKYD", 2500, 6800, 1, false}},
	{{"EE Limited", "EELT", 1200, 4500, 1, false}, {"Vodafone", "VODA", 1000, 4200, 1, false}, {"O2 UK", "O2UK", 1100, 3900, 1, false}, {"Three UK", "THRE", 1000, 3000, 1, false}},
	{{"TV Licensing", "TVLA", 1413, 1413, 1, false}},
	{{"PureGym", "PGYM", 1999, 3499, 1, false}, {"The Gym Group", "TGGP", 1899, 2999, 1, false}},
	{{"Aviva Insurance", "AVIV", 1500, 5500, 1, false}, {"Direct Line", "DLIN", 24000, 62000, 12, false}, {"Admiral Insurance", "ADML", 2500, 6500, 1, false}},
}

// employers pay salaries; fictional names.
var employers = [...]string{
	"Northwind Logistics Ltd", "Brightwater NHS Trust", "Castlegate Consulting",
	"Fenwick & Hale LLP", "Ashdown Academy Trust", "Meridian Software Ltd",
	"Kingsway Retail plc", "Oakfield Borough Council", "Sterling Engineering Ltd",
	"Harrow Vale Housing", "Bluebell Care Homes", "Tidewater Shipping Ltd",
}

// otherBanks are the sort code ranges payees and payers bank with.
var otherBanks = [...]struct{ name, prefix string }{
	{"Barclays", "20"}, {"HSBC UK", "40"}, {"Lloyds", "30"}, {"NatWest", "60"},
	{"Santander", "09"}, {"Nationwide", "07"}, {"Monzo", "04"}, {"Halifax", "11"},
}

// payees are the people a personal customer saves as beneficiaries.
var payeeRelations = [...]struct{ label, ref string }{
	{"Mum", "Love from me"}, {"Dad", "Birthday"}, {"Landlord", "Rent"},
	{"Flatmate", "Bills share"}, {"Sister", "Thanks"}, {"Brother", "Tickets"},
	{"Football club", "Subs"}, {"Childminder", "Childcare"}, {"Cleaner", "Cleaning"},
}

// businessTrades shapes a business's money: who pays it and what it buys.
var businessTrades = [...]struct {
	income            string // what customer receipts say
	clients           []string
	suppliers         []merchant
	supplierTransfers []string
}{
	{ // food and retail
		"Card takings", []string{"Worldpay Settlement", "SumUp Payments", "Square Payments"},
		[]merchant{
			{"Booker Wholesale", "5411", catGroceries, 8000, 65000, 6, false},
			{"Costco Wholesale", "5300", catShopping, 6000, 48000, 3, false},
			{"Makro", "5300", catShopping, 5000, 40000, 2, false},
			{"Royal Mail", "9402", catBills, 120, 2800, 2, false},
		},
		[]string{"Bidfood Ltd", "Brakes Foodservice", "Allied Bakeries"},
	},
	{ // trades
		"Invoice payment", []string{"Hallam Homes Ltd", "Westfield Lettings", "Mr D Fraser", "Rowan Properties", "Mrs K Adeyemi"},
		[]merchant{
			{"Screwfix", "5200", catShopping, 1200, 38000, 6, false},
			{"Travis Perkins", "5211", catShopping, 4500, 95000, 3, false},
			{"Toolstation", "5200", catShopping, 900, 22000, 4, false},
			{"Shell", "5541", catTransport, 4000, 9500, 4, false},
		},
		[]string{"Jewson Ltd", "CEF Electrical", "Howdens Joinery"},
	},
	{ // services
		"Fees received", []string{"NHS England", "Denplan Ltd", "Simplyhealth", "Bupa Dental"},
		[]merchant{
			{"Amazon Business", "5999", catShopping, 1500, 30000, 4, true},
			{"Viking Direct", "5111", catShopping, 2000, 18000, 2, true},
			{"Royal Mail", "9402", catBills, 120, 2800, 2, false},
		},
		[]string{"Henry Schein Ltd", "Dental Sky", "Office Depot UK"},
	},
}

// euroMerchants are where the euro account and prepaid card spend.
var euroMerchants = [...]merchant{
	{"Carrefour", "5411", catGroceries, 800, 9000, 6, false},
	{"Lidl Espana", "5411", catGroceries, 500, 6000, 4, false},
	{"SNCF", "4112", catTransport, 1500, 12000, 2, true},
	{"Cafe de Flore", "5812", catEatingOut, 900, 6500, 4, false},
	{"Bolt", "4121", catTransport, 600, 2500, 2, true},
	{"Fnac", "5732", catShopping, 1500, 25000, 1, false},
	{"Decathlon", "5941", catShopping, 1000, 12000, 1, false},
}
